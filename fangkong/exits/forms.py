"""The forms staff publish exit rules with: the common rules field by field, or the rule text
(TOML or JSON) for any other combination. Both give `do_publish_rules` the same rule mapping.

Every message names the field it is about: an official reads it above the whole form too."""

from __future__ import annotations

from django import forms

from fangkong.engine.gate_rules import COLOUR_LABELS, ZONE_LABELS, ExitRules, RuleError
from fangkong.exits.rules import check_rules
from fangkong.policies.forms import parse_local_time

MAX_RULES_BYTES = 16 * 1024
# The rules form's field names carry this prefix: the page also holds the text form, whose
# effective time and note would otherwise share ids with these.
FORM_PREFIX = "r"
EDITOR_FIELD, BY_FORM = "editor", "form"
# Bounds of the form (the rule text may go beyond them): a household of more than 20 going out
# in a day, or a pass for more than a day, is a typing slip rather than a rule.
MAX_PER_DAY = 20
PASS_MINUTES = (15, 24 * 60)
PCR_HOURS = (1, 7 * 24)


class _Publishing(forms.Form):
    effective_from = forms.CharField(
        label="生效时间(北京时间)",
        required=False,
        help_text="留空为立即生效。",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}),
    )
    note = forms.CharField(label="说明", max_length=200, required=False)

    def clean_effective_from(self):
        value = self.cleaned_data.get("effective_from")
        if not value:
            return None
        try:
            return parse_local_time(value)
        except ValueError as exc:
            raise forms.ValidationError(
                "「生效时间」格式应为 2022-04-23T08:00,或留空立即生效。"
            ) from exc


class RulesForm(_Publishing):
    field_order = ("text", "effective_from", "note")
    text = forms.CharField(
        label="规则(TOML或JSON)",
        strip=False,
        max_length=MAX_RULES_BYTES,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}),
        help_text="键:zone_levels、allow_unzoned、per_household_per_day、opens、closes、"
        "colours、pcr_negative_within_hours、pass_minutes;未写的键取系统默认值。",
    )

    def clean_text(self) -> str:
        return self.cleaned_data["text"].replace("\r\n", "\n")

    def rules(self) -> str:
        return self.cleaned_data["text"]


def _whole_number(label: str, bounds: tuple[int, int], **options) -> forms.IntegerField:
    low, high = bounds
    problem = f"「{label}」应为 {low} 到 {high} 之间的整数。"
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        error_messages={
            "required": f"请填写「{label}」。",
            "invalid": problem,
            "min_value": problem,
            "max_value": problem,
        },
        widget=forms.NumberInput(attrs={"min": low, "max": high, "step": 1}),
        **options,
    )


def _clock(label: str, **options) -> forms.TimeField:
    problem = f"「{label}」应为 时:分,例如 06:00。"
    return forms.TimeField(
        label=label,
        input_formats=["%H:%M", "%H:%M:%S"],
        error_messages={"required": f"请填写「{label}」。", "invalid": problem},
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        **options,
    )


def _choices(label: str, labels: dict[str, str], **options) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=list(labels.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": f"「{label}」请至少选择一项。",
            "invalid_choice": f"「{label}」没有 %(value)s 这一项。",
        },
        **options,
    )


# Least restrictive first: the level an official most often allows out comes first.
ZONE_CHOICES = {level: ZONE_LABELS[level] for level in ("prevention", "control", "lockdown")}


class CommonRulesForm(_Publishing):
    """Each key of ExitRules as a field; what the form gives is what the rule text would."""

    field_order = (
        "zone_levels",
        "allow_unzoned",
        "per_household_per_day",
        "opens",
        "closes",
        "pass_minutes",
        "colours",
        "requires_pcr",
        "pcr_negative_within_hours",
        "effective_from",
        "note",
    )
    zone_levels = _choices("可申请外出的风险区", ZONE_CHOICES, required=False)
    allow_unzoned = forms.BooleanField(label="未划定风险区的小区也可申请", required=False)
    per_household_per_day = _whole_number(
        "每户每天外出人次",
        (1, MAX_PER_DAY),
        help_text="同一户号的家庭成员合计;已作废的通行码不计。",
    )
    opens = _clock("外出开始时间", help_text="北京时间,含此刻。")
    closes = _clock("外出结束时间", help_text="此刻起不再签发;通行码最晚在此刻失效。")
    pass_minutes = _whole_number(
        "通行码有效时长(分钟)", PASS_MINUTES, help_text="自签发时起计,最晚至外出结束时间。"
    )
    colours = _choices("健康码须为", COLOUR_LABELS)
    requires_pcr = forms.BooleanField(label="须有核酸阴性记录", required=False)
    pcr_negative_within_hours = _whole_number(
        "核酸阴性时限(小时)",
        PCR_HOURS,
        required=False,
        help_text="按采样时间计,例如 48 即须有48小时内采样的阴性结果;"
        "未勾选「须有核酸阴性记录」时不适用。",
    )

    @classmethod
    def initial_from(cls, rules: ExitRules) -> dict:
        """The form filled with rules in force, to change from."""
        hours = rules.pcr_negative_within_hours
        return {
            "zone_levels": list(rules.zone_levels),
            "allow_unzoned": rules.allow_unzoned,
            "per_household_per_day": rules.per_household_per_day,
            "opens": rules.opens,
            "closes": rules.closes,
            "pass_minutes": rules.pass_minutes,
            "colours": list(rules.colours),
            "requires_pcr": hours is not None,
            # With no test required, ticking the box starts from the usual window.
            "pcr_negative_within_hours": ExitRules.pcr_negative_within_hours
            if hours is None
            else hours,
        }

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens"), data.get("closes")
        if opens and closes and closes <= opens:
            self.add_error("closes", f"「外出结束时间」应晚于「外出开始时间」({opens:%H:%M})。")
        if not data.get("requires_pcr"):
            self.errors.pop("pcr_negative_within_hours", None)  # not asked for: not read
        elif "pcr_negative_within_hours" not in self.errors and (
            data.get("pcr_negative_within_hours") is None
        ):
            self.add_error(
                "pcr_negative_within_hours",
                "已勾选「须有核酸阴性记录」:请填写「核酸阴性时限(小时)」。",
            )
        if data.get("zone_levels") == [] and not data.get("allow_unzoned"):
            self.add_error(
                "zone_levels",
                "「可申请外出的风险区」至少选择一项,或勾选「未划定风险区的小区也可申请」"
                ":否则无人可以申请。",
            )
        if not self.errors:
            try:
                check_rules(self.rules())
            except RuleError as exc:  # the form's bounds sit inside the engine's: a safety net
                raise forms.ValidationError(str(exc)) from exc
        return data

    def rules(self) -> dict:
        """The rule mapping, keyed as in the rule text."""
        data = self.cleaned_data
        return {
            "zone_levels": data["zone_levels"],
            "allow_unzoned": data["allow_unzoned"],
            "per_household_per_day": data["per_household_per_day"],
            "opens": data["opens"].strftime("%H:%M"),
            "closes": data["closes"].strftime("%H:%M"),
            "colours": data["colours"],
            "pcr_negative_within_hours": (
                data["pcr_negative_within_hours"] if data["requires_pcr"] else None
            ),
            "pass_minutes": data["pass_minutes"],
        }
