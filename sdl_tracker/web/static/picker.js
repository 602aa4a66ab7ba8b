// Pickers: a text box that narrows a scrollable list of checkboxes (or options) to the entries whose label
// contains what is typed. Without JavaScript the list is still there, whole; the box stays hidden.
(function () {
  "use strict";
  function setUp(picker) {
    var box = picker.querySelector("input[data-picker-filter]");
    var entries = picker.querySelectorAll("[data-picker-entry]");
    var count = picker.querySelector("[data-picker-count]");
    if (!box) { return; }
    box.hidden = false;
    box.addEventListener("input", function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      entries.forEach(function (entry) {
        var text = entry.textContent.toLowerCase();
        var keep = words.every(function (w) { return text.indexOf(w) !== -1; });
        // Ticked entries stay visible: what is chosen is never hidden by a filter.
        var ticked = entry.querySelector("input:checked") !== null;
        entry.hidden = !(keep || ticked);
        if (!entry.hidden) { shown += 1; }
      });
      if (count) { count.textContent = shown + " shown"; }
    });
  }
  document.querySelectorAll("[data-picker]").forEach(setUp);
})();
