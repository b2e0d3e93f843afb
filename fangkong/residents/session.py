"""Who the resident on this phone is. Residents are not staff users: a signed-in resident is a
person number in the session, put there only by a verified one-time code
(fangkong.residents.otp)."""

from __future__ import annotations

from functools import wraps

from django.shortcuts import redirect

from fangkong.people.models import Person

SESSION_KEY = "resident_person"


def sign_in(request, person: Person) -> None:
    # A new session id on sign-in, so a session fixed before it cannot be ridden.
    request.session.cycle_key()
    request.session[SESSION_KEY] = person.pk


def sign_out(request) -> None:
    request.session.pop(SESSION_KEY, None)


def current_person(request) -> Person | None:
    person_id = request.session.get(SESSION_KEY)
    if person_id is None:
        return None
    person = getattr(request, "_resident", None)
    if person is None or person.pk != person_id:
        person = Person.objects.filter(pk=person_id).first()
        request._resident = person
    return person


def resident_required(view):
    """The view gets the signed-in person as `request.resident`; others go to the sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        person = current_person(request)
        if person is None:
            return redirect(f"/r/login/?next={request.path}")
        request.resident = person
        return view(request, *args, **kwargs)

    return wrapper
