"""Forms of the testing-site pages. They check the shape of what was typed; the rules (a real
community in the user's districts, a new code) are the actions' (fangkong.testing.actions)."""

from __future__ import annotations

from django import forms

from fangkong.testing.actions import MAX_REASON, SiteDetails
from fangkong.testing.models import SiteKind


class SiteForm(forms.Form):
    name = forms.CharField(label="名称", max_length=128)
    community_code = forms.RegexField(
        label="所在社区/村",
        regex=r"^\d{12}$",
        error_messages={"invalid": "应为12位社区/村代码"},
        help_text="输入社区名称可从列表中选择;采样点属于该社区所在的区县。",
        widget=forms.TextInput(attrs={"list": "communities", "autocomplete": "off"}),
    )
    address = forms.CharField(label="地址", max_length=200, required=False)
    kind = forms.ChoiceField(label="类型", choices=SiteKind.choices, initial=SiteKind.FIXED)

    @property
    def details(self) -> SiteDetails:
        data = self.cleaned_data
        return SiteDetails(data["name"], data["community_code"], data["address"], data["kind"])


class NewSiteForm(SiteForm):
    code = forms.CharField(
        label="采样点编码",
        max_length=32,
        help_text="全市唯一,采样记录以此编码指明采样点;创建后不能修改。",
    )
    field_order = ["code", "name", "community_code", "address", "kind"]


class EditSiteForm(SiteForm):
    reason = forms.CharField(
        label="修改原因",
        max_length=MAX_REASON,
        help_text="必填,记入审计日志和变更记录。",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusForm(forms.Form):
    """Closing or reopening a site, with the reason."""

    reason = forms.CharField(
        label="原因",
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如:区指挥部通知第8号,该点撤并至自由大路社区采样点",
    )
