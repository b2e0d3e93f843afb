from fangkong.accounts.scoping import role_of


def staff(request):
    user = getattr(request, "user", None)
    role = role_of(user) if user else None
    return {"staff_role": role, "staff_profile": getattr(user, "staff", None) if role else None}
