"""The forms of the registry pages. They read the input; the actions (fangkong.enterprises
.actions) check it against the registry and say what is wrong, naming the field."""

from __future__ import annotations

from django import forms

from fangkong.enterprises.models import Industry, ResumptionStatus
from fangkong.places.queries import counties
from fangkong.policies.forms import parse_local_time

TIME_HELP = "北京时间,空为现在"


def county_choices(scope=None) -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in counties() if scope is None or c.code in scope]


class LocalTimeField(forms.CharField):
    """A `datetime-local` input read as Beijing time; empty is None (now)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "60"})

    def __init__(self, **kw):
        kw.setdefault("required", False)
        kw.setdefault("label", "时间")
        kw.setdefault("help_text", TIME_HELP)
        super().__init__(**kw)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_local_time(text)
        except ValueError as exc:
            raise forms.ValidationError(
                f"“{text[:20]}”不是有效的时间,应如 2022-04-20T09:00"
            ) from exc


class EnterpriseForm(forms.Form):
    uscc = forms.CharField(label="统一社会信用代码", max_length=24)
    name = forms.CharField(label="企业名称", max_length=128)
    county_code = forms.ChoiceField(label="所属区县(开发区)")
    community_code = forms.CharField(label="所在社区代码(12位,可空)", max_length=12, required=False)
    address = forms.CharField(label="地址", max_length=200, required=False)
    industry = forms.ChoiceField(label="行业", choices=Industry.choices)
    above_scale = forms.BooleanField(label="规上工业企业", required=False)
    normal_staff = forms.IntegerField(label="正常用工人数", min_value=0)
    liaison_name = forms.CharField(label="包保联络员", max_length=64, required=False)
    liaison_phone = forms.CharField(label="联络员电话", max_length=20, required=False)
    instructor_name = forms.CharField(label="疫情防控指导员", max_length=64, required=False)
    instructor_phone = forms.CharField(label="指导员电话", max_length=20, required=False)
    pcr_every_days = forms.IntegerField(label="闭环核酸检测间隔(天)", min_value=1, max_value=30)
    antigen_every_days = forms.IntegerField(label="闭环抗原检测间隔(天)", min_value=1, max_value=30)

    def __init__(self, *args, scope=None, editing: bool = False, **kw):
        super().__init__(*args, **kw)
        self.fields["county_code"].choices = county_choices(scope)
        if editing:
            self.fields["reason"] = forms.CharField(label="修改原因", max_length=200)


class FileForm(forms.Form):
    note = forms.CharField(
        label="复工方案及承诺说明", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    document = forms.FileField(
        label="方案文件(PDF、JPG、PNG 或 DOCX)",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,application/pdf,image/jpeg,image/png"}
        ),
    )
    at = LocalTimeField(label="提交时间")


class CheckForm(forms.Form):
    check_team = forms.CharField(label="检查组", max_length=128)
    findings = forms.CharField(label="检查发现", widget=forms.Textarea(attrs={"rows": 3}))
    disinfected = forms.BooleanField(label="已完成全场区消杀", required=False)
    at = LocalTimeField(label="检查时间")


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label="决定", choices=[("approve", "批准"), ("reject", "退回")])
    note = forms.CharField(
        label="说明(退回必填原因)", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    at = LocalTimeField(label="决定时间")


class ResumeForm(forms.Form):
    note = forms.CharField(label="说明", max_length=500, required=False)
    at = LocalTimeField(label="复工时间")


class SuspendForm(forms.Form):
    reason = forms.CharField(label="停工原因", max_length=500)
    at = LocalTimeField(label="停工时间")


class ReportForm(forms.Form):
    day = forms.DateField(
        label="日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    staff_on_duty = forms.IntegerField(label="在岗人数", min_value=0)
    returning_staff = forms.IntegerField(label="其中返岗人数", min_value=0)
    capacity_percent = forms.DecimalField(
        label="产能恢复(% ,正常为100)", min_value=0, max_value=200, decimal_places=1
    )
    closed_loop = forms.BooleanField(label="闭环生产", required=False)
    problems = forms.CharField(
        label="存在问题", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    correction_reason = forms.CharField(
        label="更正原因(更正已报送的日报时必填)", max_length=200, required=False
    )


class RegistryFilter(forms.Form):
    county = forms.ChoiceField(label="区县", required=False)
    industry = forms.ChoiceField(
        label="行业", required=False, choices=[("", "全部行业"), *Industry.choices]
    )
    scale = forms.ChoiceField(
        label="规模",
        required=False,
        choices=[("", "全部"), ("above", "规上工业企业"), ("below", "规下企业")],
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *ResumptionStatus.choices]
    )
    q = forms.CharField(label="搜索(名称或信用代码)", max_length=64, required=False)

    def __init__(self, *args, scope=None, **kw):
        super().__init__(*args, **kw)
        self.fields["county"].choices = [("", "全部区县"), *county_choices(scope)]
