from fangkong.accounts.scoping import role_of


def staff(request):
    """Every page's top bar: role, districts and the links the role may follow."""
    from fangkong.accounts.views import staff_context

    user = getattr(request, "user", None)
    role = role_of(user) if user else None
    return {
        "staff_role": role,
        "staff_profile": getattr(user, "staff", None) if role else None,
        **(staff_context(request) if user is not None else {}),
    }
