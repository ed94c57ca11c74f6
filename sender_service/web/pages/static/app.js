// Replyline's only script: small conveniences; every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // The workspace picker switches on change; its button is for keyboards without JS.
  document.querySelectorAll("form.picker select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
    const button = select.form.querySelector("button");
    if (button) button.hidden = true;
  });
  // Ask before the kill switch and rejections.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("submit", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });
  // Tell the setter when they have edited the AI's draft.
  document.querySelectorAll("textarea[data-original]").forEach((area) => {
    const note = document.getElementById(area.dataset.note);
    const plain = (text) => text.replace(/\r\n/g, "\n").trim();
    const update = () => {
      if (note) note.hidden = plain(area.value) === plain(area.dataset.original);
    };
    area.addEventListener("input", update);
    update();
  });
});
