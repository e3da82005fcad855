// The menu on a phone (issue 17): one "Menu" button that opens every entry as a compact grid, instead of one line
// that scrolls inside itself with entries past the edge. Loaded in <head> (not deferred) so the class below is set
// before the page is drawn; without this script the grid simply stays open (nothing is unreachable).
"use strict";
document.documentElement.classList.add("js-menu");
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector(".menu-toggle");
  const menu = document.getElementById("menu");
  if (!button || !menu) return;
  button.addEventListener("click", () => {
    const open = menu.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
});
