"""Ed25519 signing keys (签名密钥). Only the public half is in the database; the private half is
a file in settings.KEY_DIR, created on first use and never committed."""

from django.db import models


class SigningKey(models.Model):
    kid = models.CharField("密钥标识", max_length=32, primary_key=True)
    public_key = models.CharField("公钥(base64url)", max_length=64)
    created_at = models.DateTimeField("创建时间")
    # A retired key signs nothing new but stays published until every token it signed expired,
    # so a rotation never invalidates a code on someone's screen.
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)
    # A revoked key is distrusted at once: every token it signed is denied.
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoked_reason = models.CharField("吊销原因", max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "签名密钥"
        verbose_name_plural = "签名密钥"

    def __str__(self) -> str:
        return self.kid
