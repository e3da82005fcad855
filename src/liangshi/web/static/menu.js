// The menu (issue 17). On a phone: one "Menu" button that opens every section at once, each entry inside the
// screen. On a desk: one line, the sections as drop-downs — a disclosure button (aria-expanded) per section,
// opened by click, Enter or Space, closed by Escape (focus back on its button), by a click elsewhere or when the
// focus leaves it; one open at a time. Loaded in <head> (not deferred) so the class below is set before the page
// is drawn; without this script every section stays open and the menu simply wraps (nothing is unreachable).
"use strict";
document.documentElement.classList.add("js-menu");
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector(".menu-toggle");
  const menu = document.getElementById("menu");
  if (!menu) return;
  const phone = window.matchMedia("(max-width: 47.99rem)");
  const sections = Array.from(menu.querySelectorAll(".menu-section"));
  const setOpen = (section, open) => {
    section.classList.toggle("open", open);
    const head = section.querySelector(".menu-head");
    if (head) head.setAttribute("aria-expanded", open ? "true" : "false");
  };
  const closeAll = (except) => sections.forEach((s) => { if (s !== except) setOpen(s, false); });
  if (button) {
    button.addEventListener("click", () => {
      const open = menu.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      // The phone's opened menu shows every section; each can still be folded by its own button.
      sections.forEach((s) => setOpen(s, open));
    });
  }
  for (const section of sections) {
    const head = section.querySelector(".menu-head");
    if (!head) continue;
    head.addEventListener("click", () => {
      const open = !section.classList.contains("open");
      if (!phone.matches) closeAll(section);
      setOpen(section, open);
    });
    section.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && section.classList.contains("open") && !phone.matches) {
        setOpen(section, false);
        head.focus();
      }
    });
    section.addEventListener("focusout", (event) => {
      if (!phone.matches && event.relatedTarget && !section.contains(event.relatedTarget)) setOpen(section, false);
    });
  }
  document.addEventListener("click", (event) => {
    if (!phone.matches && !menu.contains(event.target)) closeAll(null);
  });
});
