"""After the vote: delivery of the funded projects, outcome indicators, the perception
survey, following a project by email, and the open data of all of it.

Modules: records (opening, editors, appended changes), outcomes (indicators and values),
survey, follow (email subscriptions), export (delivery.json, CSV, the bundle)."""
