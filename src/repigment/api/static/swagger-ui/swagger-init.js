// Starts Swagger UI on the page's own OpenAPI document (its address is in data-openapi), with no inline script.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    oauth2RedirectUrl: window.location.origin + root.dataset.oauth2Redirect,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    persistAuthorization: false,
  });
});
