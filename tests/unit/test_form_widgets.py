"""pbvote's html_params writes exactly what WTForms' own writes, for any attributes."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import Form, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import core as widgets_core

from pbvote.web import form_widgets

attribute_names = st.one_of(
    st.sampled_from(["id", "name", "class_", "for_", "data_kind", "aria_describedby",
                     "aria_invalid", "required", "value", "type"]),
    st.text(min_size=1, max_size=12))
attribute_values = st.one_of(
    st.booleans(), st.none(), st.integers(), st.text(max_size=20),
    st.text(max_size=20).map(Markup), st.sampled_from(['"', "<script>", "&amp;", "'"]))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(attribute_names, attribute_values, max_size=8))
def test_the_same_text_as_wtforms_for_any_attributes(attributes):
    ours = form_widgets.html_params(**attributes)
    assert isinstance(ours, Markup)
    assert ours == form_widgets._original_html_params(**attributes)


def test_installed_widgets_render_the_same_field_as_before():
    class Sample(Form):
        last_name = StringField("Last name", validators=[DataRequired(), Length(max=100)])

    form = Sample(data={"last_name": 'O"Brien <b>'})
    form_widgets.install()
    assert widgets_core.Input.html_params is form_widgets.html_params
    assert widgets_core.html_params is form_widgets.html_params
    rendered = form.last_name(aria_describedby="hint", class_="wide") + form.last_name.label()
    assert rendered == Markup(
        '<input aria-describedby="hint" class="wide" id="last_name" maxlength="100" '
        'name="last_name" required type="text" value="O&#34;Brien &lt;b&gt;">'
        '<label for="last_name">Last name</label>')
