"""The forms of the ticket pages. They read the input; the actions (fangkong.tickets.actions)
check it and say what is wrong, naming the field."""

from __future__ import annotations

from django import forms

from fangkong.enterprises.forms import LocalTimeField
from fangkong.tickets import rules

PRIORITY_CHOICES = [("", "按问题紧急程度选择(可不选)"), *rules.PRIORITIES]


class RaiseForm(forms.Form):
    enterprise = forms.TypedChoiceField(label="企业", coerce=int)
    category = forms.ChoiceField(label="问题类别", choices=rules.CATEGORIES_CHOICES)
    description = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 4}))
    contact_name = forms.CharField(label="联系人", max_length=64)
    contact_phone = forms.CharField(label="联系电话", max_length=20)
    priority = forms.ChoiceField(label="紧急程度", choices=PRIORITY_CHOICES, required=False)

    def __init__(self, *args, enterprises=(), **kw):
        super().__init__(*args, **kw)
        self.fields["enterprise"].choices = [(e.pk, e.name) for e in enterprises]


class AssignForm(forms.Form):
    group = forms.ChoiceField(label="承办组", choices=rules.GROUPS)
    priority = forms.ChoiceField(label="优先级", choices=rules.PRIORITIES)
    due = LocalTimeField(
        label="办结时限", help_text="北京时间;空为按优先级(紧急4小时、较急24小时、一般72小时)"
    )
    note = forms.CharField(
        label="分派说明", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TextForm(forms.Form):
    text = forms.CharField(label="内容", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ListFilter(forms.Form):
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *rules.STATUS_CHOICES]
    )
    group = forms.ChoiceField(label="工作组", required=False, choices=[("", "全部"), *rules.GROUPS])
    overdue = forms.BooleanField(label="只看超期", required=False)
