// Starts the vendored Swagger UI on /api/docs (templates/api/docs.html): its settings come from
// the page as JSON, and "Try it out" sends the page's CSRF token like the site's own forms.
(function () {
  const settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  const csrfToken = document.body.dataset.csrfToken;
  window.ui = SwaggerUIBundle({
    ...settings,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    requestInterceptor(request) {
      if (csrfToken) request.headers["X-CSRFToken"] = csrfToken;
      return request;
    },
  });
})();
