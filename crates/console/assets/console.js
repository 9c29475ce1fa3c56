// The console's one script: enhancements only; every page works without it.
"use strict";
(function () {
  // A page restored from the back-forward cache (after signing out, say) is fetched again,
  // so it shows what the server says now, not what it showed then.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });

  // Password strength feedback: the server applies the rules; this only hints while typing.
  function score(value) {
    var s = 0;
    if (value.length >= 12) s++;
    if (value.length >= 16) s++;
    if (/[a-z]/.test(value) && /[A-Z]/.test(value)) s++;
    if (/[0-9]/.test(value)) s++;
    if (/[^A-Za-z0-9]/.test(value)) s++;
    return Math.min(s, 4);
  }
  var words = ["too short", "weak", "fair", "good", "strong"];
  document.querySelectorAll("input[data-strength]").forEach(function (input) {
    var meter = document.getElementById(input.getAttribute("data-strength"));
    if (!meter) return;
    var text = meter.nextElementSibling;
    input.addEventListener("input", function () {
      var s = input.value.length < 12 ? 0 : score(input.value);
      meter.value = s;
      if (text) text.textContent = words[s];
    });
  });

  // A copy button beside a secret shown once (data-copy names the element holding it).
  document.querySelectorAll("[data-copy]").forEach(function (source) {
    if (!navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = "Copied";
      });
    });
    source.insertAdjacentElement("afterend", button);
  });
})();
