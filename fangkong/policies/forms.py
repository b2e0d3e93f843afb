"""The policy editor's form, and reading the times staff type (pages and command line)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms

from fangkong.engine.policies import PolicyError
from fangkong.policies.source import MAX_POLICY_BYTES, decode

BEIJING = ZoneInfo("Asia/Shanghai")


_END_OF_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]24:00(?::00(?:\.0+)?)?(Z|[+-]\d{2}:\d{2})?$")


def parse_local_time(value: str) -> datetime:
    """An ISO 8601 time; one without a UTC offset (a `datetime-local` input, `2022-04-23`,
    `2022-04-23T08:00`) is read as Beijing time; `2022-04-19T24:00` is 20 April 00:00.
    Raises ValueError."""
    text = (value or "").strip()
    if not text:
        raise ValueError("时间为空")
    # ISO 8601's end of a day, as announcements count ("截至19日24时"): the next day's 00:00.
    end_of_day = _END_OF_DAY.match(text)
    if end_of_day:
        day, offset = end_of_day.groups()
        return parse_local_time(f"{day}T00:00{offset or ''}") + timedelta(days=1)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BEIJING)
    return parsed


def local_input_value(value: datetime) -> str:
    """The value of a `datetime-local` input showing this instant in Beijing time."""
    return value.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


class PolicyForm(forms.Form):
    """A policy file, pasted (TOML or JSON) or uploaded. The text is what gets previewed and,
    unchanged, what gets published."""

    text = forms.CharField(
        label="政策文件(TOML或JSON)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "false", "class": "mono"}),
    )
    file = forms.FileField(
        label="或上传文件",
        required=False,
        help_text=".toml 或 .json,UTF-8编码,不超过256KB;上传的文件优先于文本框。",
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        raw = upload.read(MAX_POLICY_BYTES + 1) if upload else (data.get("text") or "").encode()
        try:
            data["text"] = decode(raw)
        except PolicyError as exc:
            raise forms.ValidationError(exc.problems) from exc
        if not data["text"].strip():
            raise forms.ValidationError("请粘贴政策文件内容,或上传文件。")
        return data


class AsOfForm(forms.Form):
    """The moment a statistics page reports on, in Beijing time; empty means now."""

    at = forms.CharField(
        label="统计时点(北京时间)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}),
    )

    def clean_at(self) -> datetime | None:
        value = self.cleaned_data.get("at")
        if not value:
            return None
        try:
            return parse_local_time(value)
        except ValueError as exc:
            raise forms.ValidationError("时间格式应为 2022-04-23T08:00。") from exc


class WithdrawForm(forms.Form):
    """Why a policy is withdrawn: the reason is kept with the withdrawal and in the audit log."""

    reason = forms.CharField(
        label="撤回理由",
        min_length=5,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"min_length": "撤回理由至少5个字。", "required": "请填写撤回理由。"},
    )
