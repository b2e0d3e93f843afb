"""The form staff publish exit rules with."""

from __future__ import annotations

from django import forms

from fangkong.policies.forms import parse_local_time

MAX_RULES_BYTES = 16 * 1024


class RulesForm(forms.Form):
    text = forms.CharField(
        label="规则(TOML或JSON)",
        strip=False,
        max_length=MAX_RULES_BYTES,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}),
        help_text="键:zone_levels、allow_unzoned、per_household_per_day、opens、closes、"
        "colours、pcr_negative_within_hours、pass_minutes;未写的键取系统默认值。",
    )
    effective_from = forms.CharField(
        label="生效时间(北京时间)",
        required=False,
        help_text="留空为立即生效。",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}),
    )
    note = forms.CharField(label="说明", max_length=200, required=False)

    def clean_text(self) -> str:
        return self.cleaned_data["text"].replace("\r\n", "\n")

    def clean_effective_from(self):
        value = self.cleaned_data.get("effective_from")
        if not value:
            return None
        try:
            return parse_local_time(value)
        except ValueError as exc:
            raise forms.ValidationError("时间格式应为 2022-04-23T08:00。") from exc
