"""Forms of the zone pages: proposing a decision (a notice with its entries), rejecting one."""

from __future__ import annotations

from django import forms

from fangkong.engine.policies import ZONE_LABELS
from fangkong.policies.forms import parse_local_time
from fangkong.zones.actions import MAX_REASON, MAX_TITLE
from fangkong.zones.models import Scheme
from fangkong.zones.notice import LEVEL_BY_LABEL

TIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60})


def _time(value):
    if not value:
        return None
    try:
        return parse_local_time(value)
    except ValueError as exc:
        raise forms.ValidationError("时间格式应为 2022-04-20T18:00。") from exc


class ProposalForm(forms.Form):
    number = forms.IntegerField(
        label="通告编号",
        required=False,
        min_value=1,
        help_text="如第21号填21;留空则发布时按顺序编号。",
    )
    title = forms.CharField(label="标题", max_length=MAX_TITLE)
    scheme = forms.ChoiceField(label="划分方式", choices=Scheme.choices)
    effective_from = forms.CharField(
        label="生效时间(北京时间)",
        required=False,
        help_text="留空为现在(发布后即生效);可填将来的时间,如“自4月20日18时起”。",
        widget=TIME_WIDGET,
    )
    effective_until = forms.CharField(
        label="截止时间(可选)",
        required=False,
        help_text="到时该级别自动失效,恢复此前的级别。",
        widget=TIME_WIDGET,
    )
    entries = forms.CharField(
        label="调整条目",
        help_text="每行一个社区:12位社区代码和级别,如“220102001001 低风险区”或“220102001001 low”。",
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
    )

    def clean_effective_from(self):
        return _time(self.cleaned_data.get("effective_from"))

    def clean_effective_until(self):
        return _time(self.cleaned_data.get("effective_until"))

    def clean_entries(self):
        rows, problems = [], []
        lines = [line.strip() for line in self.cleaned_data["entries"].splitlines()]
        for number, line in enumerate((line for line in lines if line), 1):
            parts = line.replace(",", " ").replace(",", " ").split()
            level = LEVEL_BY_LABEL.get(parts[-1], parts[-1]) if len(parts) == 2 else None
            if level not in ZONE_LABELS:
                problems.append(f"第{number}行应为“社区代码 级别”,如“220102001001 低风险区”")
                continue
            rows.append((parts[0], level))
        if problems:
            raise forms.ValidationError(problems)
        if not rows:
            raise forms.ValidationError("请至少填写一个社区")
        return rows


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="驳回理由", max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2})
    )
