from django.urls import path

from fangkong.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    # Residents' page: no sign-in, no personal data.
    path("public/", views.public, name="public"),
    path("public/<int:pk>.txt", views.public_text, name="public_text"),
    path("public/<int:pk>.xlsx", views.public_xlsx, name="public_xlsx"),
    path("public/<int:pk>.pdf", views.public_pdf, name="public_pdf"),
    path("bulletin/", views.bulletin_desk, name="desk"),
    path("bulletin/draft/", views.bulletin_draft, name="bulletin_draft"),
    path("bulletin/<int:pk>/approve/", views.bulletin_approve, name="bulletin_approve"),
    path("bulletin/<int:pk>/publish/", views.bulletin_publish, name="bulletin_publish"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/events/", views.case_event, name="case_event"),
    path("<int:pk>/contacts/", views.case_contacts, name="case_contacts"),
]
