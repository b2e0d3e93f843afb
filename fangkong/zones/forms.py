"""The form district staff set a community's zone level with."""

from __future__ import annotations

from django import forms

from fangkong.places.models import ZoneLevel
from fangkong.policies.forms import parse_local_time
from fangkong.zones.actions import MAX_REASON


class ZoneLevelForm(forms.Form):
    level = forms.ChoiceField(label="调整为", choices=ZoneLevel.choices)
    start_at = forms.CharField(
        label="起始时间(北京时间)",
        required=False,
        help_text="留空为现在;可补录7天内已作出的决定,不能预约将来的调整。",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}),
    )
    reason = forms.CharField(
        label="调整依据",
        max_length=MAX_REASON,
        help_text="如:区指挥部通告第12号,连续14天无新增阳性",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_start_at(self):
        value = self.cleaned_data.get("start_at")
        if not value:
            return None
        try:
            return parse_local_time(value)
        except ValueError as exc:
            raise forms.ValidationError("时间格式应为 2022-04-23T08:00。") from exc
