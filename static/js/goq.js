// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Move focus to an error summary or a question the page asks, so keyboard and
  // screen-reader users land on it.
  var target = document.querySelector("[data-autofocus]");
  if (target) {
    target.focus();
  }

  // An error summary's links move the focus to the field itself, not just the view.
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (field) {
        event.preventDefault();
        field.focus();
        var label = document.querySelector("label[for='" + field.id + "']");
        (label || field).scrollIntoView({ block: "center" });
      }
    });
  });

  // Copy buttons: shown only when the script runs; the field stays selectable anyway.
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      function done(ok) {
        if (status) {
          status.textContent = ok ? button.dataset.copiedText : button.dataset.copyFailedText;
        }
      }
      function fallback() {
        field.select();
        try {
          done(document.execCommand("copy"));
        } catch (error) {
          done(false);
        }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, fallback);
      } else {
        fallback();
      }
    });
  });

  // Saving asks MakeShop and takes a few seconds: say so, and prevent a double submit.
  document.querySelectorAll("button[data-busy-text]").forEach(function (button) {
    var form = button.form;
    if (!form) {
      return;
    }
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = button.dataset.busyText;
      }, 0);
    });
  });
})();
