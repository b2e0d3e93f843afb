from django import forms

from fangkong.engine.id_numbers import check_id_number, normalise_id_number


class IdNumberForm(forms.Form):
    id_number = forms.CharField(label="身份证号", max_length=18, min_length=18)

    def clean_id_number(self):
        value = normalise_id_number(self.cleaned_data["id_number"])
        problem = check_id_number(value)
        if problem:
            raise forms.ValidationError(problem)
        return value


class CodeForm(forms.Form):
    id_number = forms.CharField(widget=forms.HiddenInput, max_length=18)
    code = forms.RegexField(label="短信验证码", regex=r"^\s*\d{6}\s*$", max_length=8)


class AntigenForm(forms.Form):
    result = forms.ChoiceField(label="结果", choices=[("negative", "阴性"), ("positive", "阳性")])
    tested_at = forms.DateTimeField(
        label="检测时间",
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
