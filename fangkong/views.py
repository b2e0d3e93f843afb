from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from fangkong.accounts.scoping import districts_of, role_of


@login_required
def home(request):
    return render(request, "home.html", {
        "role": role_of(request.user),
        "districts": districts_of(request.user),
    })
