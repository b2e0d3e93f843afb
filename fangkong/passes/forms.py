"""Forms of the vehicle-pass pages. The actions check everything again (and name the field)."""

from __future__ import annotations

from django import forms

from fangkong.passes.models import VehicleType

LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _moment(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=LOCAL_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="北京时间",
        error_messages={"invalid": "不是有效的时间", "required": "不能为空"},
    )


class ApplyForm(forms.Form):
    enterprise = forms.TypedChoiceField(label="申请企业", coerce=int, choices=())
    plate = forms.CharField(label="车牌号", max_length=16, help_text="如 吉A12345、吉AD12345")
    vehicle_type = forms.ChoiceField(label="车辆类型", choices=VehicleType.choices)
    driver_id_number = forms.CharField(
        label="驾驶员身份证号", max_length=18, help_text="驾驶员须为已登记的人员"
    )
    driver_phone = forms.CharField(label="驾驶员电话", max_length=20)
    origin = forms.CharField(label="起点", max_length=40)
    origin_code = forms.CharField(label="起点区划代码", max_length=12, required=False)
    destination = forms.CharField(label="终点", max_length=40)
    destination_code = forms.CharField(label="终点区划代码", max_length=12, required=False)
    cargo = forms.CharField(label="运输物资", max_length=100)
    valid_from = _moment("有效期自")
    valid_until = _moment("有效期至")

    def __init__(self, *args, enterprises=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].choices = [(e.pk, e.name) for e in enterprises]
        if len(enterprises) == 1:  # an enterprise's own account: no choice to make
            self.fields["enterprise"].widget = forms.HiddenInput()
            self.fields["enterprise"].initial = enterprises[0].pk
        for name, field in self.fields.items():
            if name not in ("valid_from", "valid_until"):
                field.error_messages = {**field.error_messages, "required": "不能为空"}


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label="处理结果", choices=[("approve", "批准"), ("reject", "驳回")]
    )
    reason = forms.CharField(
        label="处理意见", max_length=200, required=False, help_text="驳回须写明原因"
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(label="吊销原因", max_length=200)
