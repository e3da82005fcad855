// Forms that apply a filter as soon as it is chosen (no inline handler: the CSP says script-src 'self').
document.addEventListener("change", (e) => {
  const field = e.target;
  if (field instanceof HTMLElement && field.matches("[data-autosubmit]") && field.form) {
    field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
  }
});
