// The area map: one marker per door plate, coloured by status (square when buildings stand on it).
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map(el, { zoomSnap: 0.25 });
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, { attribution: cfg.attribution || "", subdomains: cfg.subdomains || "abc", maxZoom: 19 }).addTo(map);
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  var layer = L.geoJSON(data, {
    pointToLayer: function (feature, latlng) {
      var p = feature.properties;
      var shape = p.buildings && p.buildings.length ? " square" : "";
      var icon = L.divIcon({ className: "plate-marker st-" + p.status + shape, iconSize: [14, 14] });
      return L.marker(latlng, { icon: icon, title: (p.street || "") + p.number, keyboard: false });
    },
    onEachFeature: function (feature, lyr) {
      var p = feature.properties;
      var html = "<strong>" + esc(p.street || "") + esc(p.number) + "</strong><br>" + esc(cfg.status[p.status] || p.status);
      if (p.buildings && p.buildings.length) {
        html += "<br>" + esc(cfg.buildings) + ": " + p.buildings.map(function (b) {
          if (!cfg.grid_links) return esc(b.label);
          return '<a href="/web/buildings/' + b.id + '/grid">' + esc(b.label) + "</a>";
        }).join(", ");
      }
      lyr.bindPopup(html);
    },
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(0.15), { maxZoom: 18 });
  } else {
    map.setView([30.39, 114.89], 12);  // Ezhou
  }
  el.dataset.markers = String(data.features.length);
})();
