// Progressive enhancement: draws the map of a page from its JSON (maps/_map.html) with the
// vendored Leaflet. Without this file the page's list, or the idea form's text field, says
// the same. Tiles only when the server configures a tile host; otherwise the district
// outlines and the points alone, so nothing loads from another site.
(function () {
  "use strict";
  if (!window.L) { return; }
  var L = window.L;

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) { node.className = className; }
    return node;
  }

  function draw(holder) {
    var data = JSON.parse(document.getElementById(holder.id + "-data").textContent);
    var input = data.picker ? document.getElementById(data.picker) : null;
    if (!data.tiles && !data.outlines.length) { return; }  // a blank canvas helps nobody
    holder.hidden = false;
    L.Icon.Default.imagePath = holder.dataset.images;
    var map = L.map(holder, { scrollWheelZoom: false, attributionControl: !!data.tiles });
    if (data.tiles) {
      // the credit is plain text from the configuration, never HTML
      var credit = text("span", data.tiles.attribution).innerHTML;
      L.tileLayer(data.tiles.url, { attribution: credit, maxZoom: 19 }).addTo(map);
    }
    var bounds = L.latLngBounds([]);
    if (data.outlines.length) {
      var outlines = L.geoJSON({ type: "FeatureCollection", features: data.outlines }, {
        interactive: false,
        style: { color: "#1d4f7c", weight: 2, fillOpacity: 0.06 }
      }).addTo(map);
      bounds.extend(outlines.getBounds());
    }
    var ideaIcon = new L.Icon.Default({ className: "marker-idea" });
    data.markers.forEach(function (m) {
      var label = data.labels[m.kind] + ": " + m.title;
      var marker = L.marker([m.lat, m.lon], {
        icon: m.kind === "idea" ? ideaIcon : new L.Icon.Default(),
        title: label, alt: label, keyboard: true
      }).addTo(map);
      var box = document.createElement("div");
      box.appendChild(text("p", data.labels[m.kind], "map-popup-kind"));
      var link = text("a", m.title);
      link.href = m.url;
      box.appendChild(link);
      marker.bindPopup(box);
      bounds.extend([m.lat, m.lon]);
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16 });
    } else {
      map.setView([20, 0], 2);
    }
    if (input) { pick(map, input, data.labels.picked); }
  }

  // The idea form: a click on the map writes "lat, lon" into the text field, which stays the
  // truth (typed by hand, it moves the pin); the server checks the place again.
  function pick(map, input, label) {
    var pin = null;
    function place(latlng) {
      if (pin) { pin.setLatLng(latlng); return; }
      pin = L.marker(latlng, { title: label, alt: label, keyboard: false }).addTo(map);
    }
    function fromInput() {
      var parts = input.value.split(",");
      var lat = parseFloat(parts[0]), lon = parseFloat(parts[1]);
      if (parts.length === 2 && isFinite(lat) && isFinite(lon)) { place([lat, lon]); }
    }
    map.on("click", function (event) {
      var latlng = event.latlng.wrap();
      input.value = latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6);
      place(latlng);
      input.dispatchEvent(new Event("change"));
    });
    input.addEventListener("change", fromInput);
    fromInput();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".map[data-images]"), draw);
}());
