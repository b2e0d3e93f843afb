"""One-time sign-in codes (短信验证码) and the development outbox that stands in for an SMS
gateway in the demo."""

from django.db import models


class OneTimeCode(models.Model):
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["person", "created_at"], name="otp_person_time")]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    """A text message the demo 'sent': kept so a developer can read the code (never in
    production, where settings.SMS_SENDER names a real gateway)."""

    phone = models.CharField(max_length=20)
    text = models.CharField(max_length=200)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sent_at:%H:%M:%S} {self.text[:20]}"
