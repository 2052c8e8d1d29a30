/* Form helpers: refuse an over-large photo before it is sent (the server checks again). */
"use strict";
(function () {
  document.querySelectorAll("[data-photo-form]").forEach(function (form) {
    var max = +form.getAttribute("data-max-bytes");
    var input = form.querySelector('input[type="file"]');
    var err = form.querySelector("#err-photo-size");
    function check() {
      var big = input.files && input.files[0] && input.files[0].size > max;
      if (err) err.hidden = !big;
      input.setAttribute("aria-invalid", big ? "true" : "false");
      if (big && err) input.setAttribute("aria-describedby", "err-photo-size");
      return !big;
    }
    input.addEventListener("change", check);
    form.addEventListener("submit", function (ev) { if (!check()) { ev.preventDefault(); input.focus(); } });
  });
})();
