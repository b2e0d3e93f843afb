"""Forms of the upload and flag pages."""

from pathlib import Path

from django import forms
from django.template.defaultfilters import filesizeformat

from fangkong.ingest.limits import ingest_file_bytes

ALLOWED_SUFFIXES = (".csv", ".xlsx")
ENCODINGS = {
    "auto": None,
    # utf-8-sig reads UTF-8 with or without a byte-order mark.
    "utf-8": "utf-8-sig",
    "gb18030": "gb18030",
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label="文件",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
        help_text="CSV(UTF-8或GB18030编码)或Excel .xlsx,第1行为列名。",
    )
    assume_beijing_time = forms.BooleanField(
        label="表格中没有时区的时间按北京时间(+08:00)解释",
        required=False,
        help_text="不勾选时,没有写明时区的时间(如Excel日期)会被拒绝。",
    )
    encoding = forms.ChoiceField(
        label="CSV编码",
        choices=[("auto", "自动识别"), ("utf-8", "UTF-8"), ("gb18030", "GB18030 / GBK")],
        initial="auto",
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError("只接受 .csv 或 .xlsx 文件")
        limit = ingest_file_bytes()
        if upload.size > limit:
            raise forms.ValidationError(f"文件超过{filesizeformat(limit)},请拆分后上传")
        if upload.size == 0:
            raise forms.ValidationError("文件为空")
        return upload

    @property
    def assume_offset(self) -> str | None:
        return "+08:00" if self.cleaned_data.get("assume_beijing_time") else None

    @property
    def encoding_name(self) -> str | None:
        return ENCODINGS[self.cleaned_data.get("encoding") or "auto"]


class ResolveFlagForm(forms.Form):
    decision = forms.ChoiceField(
        label="处理决定",
        choices=[("accept", "采纳新值(作为更正入库)"), ("keep", "维持原值(不入库)")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="处理理由",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="必填,记入审计日志;采纳时也作为更正原因保存。",
    )

    @property
    def accept(self) -> bool:
        return self.cleaned_data["decision"] == "accept"
