"""The login forms: Django's, with the labels and browser hints staff expect, and limits on wrong
passwords per account and per client (fangkong.accounts.throttle) for the staff sign-in and the
admin's own."""

from datetime import timedelta

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms import CharField, PasswordInput, TextInput
from django.utils import timezone

from fangkong.accounts import throttle
from fangkong.base.display import when

WINDOW = timedelta(minutes=15)


def per_account() -> throttle.Rule:
    return throttle.configured("staff-account", "SIGNIN_PASSWORD_FAILURES", 5, WINDOW, WINDOW)


def per_client() -> throttle.Rule:
    return throttle.configured(
        "staff-client", "SIGNIN_PASSWORD_FAILURES_PER_CLIENT", 20, WINDOW, WINDOW
    )


class LimitedSignIn:
    """Refuses an account or client locked for wrong passwords before checking the password;
    counts each wrong one. Any user name is counted, whether an account has it or not."""

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or password is None:
            return super().clean()
        now = timezone.now()
        client = throttle.client_address(self.request) if self.request else "unknown"
        # Case does not buy more tries at one account.
        account = username.casefold()
        refusal = throttle.locked(per_client(), client, now) or throttle.locked(
            per_account(), account, now
        )
        if refusal is not None:
            raise self.locked_error(refusal)
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code != "invalid_login":
                raise
            by_account = throttle.fail(per_account(), account, now, username)
            by_client = throttle.fail(per_client(), client, now, client)
            refusal = by_account or by_client
            if refusal is not None:
                raise self.locked_error(refusal) from None
            raise
        throttle.forget(per_account(), account)
        return cleaned

    @staticmethod
    def locked_error(refusal: throttle.Refusal) -> ValidationError:
        return ValidationError(
            f"密码错误次数过多,登录已暂时锁定,请于 {when(refusal.until)} 后再试;"
            "如忘记密码请联系系统管理员。",
            code="locked",
        )


class LoginForm(LimitedSignIn, AuthenticationForm):
    username = CharField(
        label="用户名",
        max_length=150,
        widget=TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = CharField(
        label="密码",
        strip=False,
        widget=PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "用户名或密码不正确。",
        "inactive": "该账号已停用。",
    }


class AdminLoginForm(LimitedSignIn, AdminAuthenticationForm):
    """The admin's sign-in (/admin/login/), limited like the staff one."""
