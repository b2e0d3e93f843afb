"""QR codes as inline SVG (segno): no image requests, crisp at any phone's pixel density."""

import segno


def qr_svg(text: str, *, title: str = "") -> str:
    # Error level M: a phone screen with glare or a crack still scans.
    return segno.make(text, error="m").svg_inline(
        scale=4, border=2, dark="#111", omitsize=True, title=title or None
    )
