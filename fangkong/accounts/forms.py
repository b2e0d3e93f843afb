"""The login form: Django's, with the labels and browser hints staff expect."""

from django.contrib.auth.forms import AuthenticationForm
from django.forms import CharField, PasswordInput, TextInput


class LoginForm(AuthenticationForm):
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
