"""Form fields that replace raw JSON boxes in the admin with what a team lead expects to see.

- `CheckboxListField`: a list of choices as checkboxes (days of the week, severities).
- `NameListField`: label names typed as "service, cluster".
- `RowsField`: a small editable table (credit tiers, labels), one input per cell, rows added and
  removed with buttons (static/admin/hiveops/widgets.js); without JavaScript an empty row is
  always offered.
- `KindSettingsMixin`: settings that depend on a kind (a rule's parameters, a channel's
  configuration) as ordinary fields, each shown only for the kinds it applies to, and gathered
  into the JSON field on save.

Every message names the row, the column or the setting in words, never a JSON path.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
WIDGETS_JS = "admin/hiveops/widgets.js"


class Checkboxes(forms.CheckboxSelectMultiple):
    """Checkboxes laid out in a row (they wrap on a phone)."""

    def __init__(self, attrs=None, choices=()):
        super().__init__({"class": "hive-checks", **(attrs or {})}, choices)


class CheckboxListField(forms.TypedMultipleChoiceField):
    """A JSON list of choices edited as checkboxes; stored in the choices' order."""

    widget = Checkboxes

    def __init__(self, *, choices, coerce=str, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=choices, coerce=coerce, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list | tuple) else value

    def clean(self, value):
        chosen = super().clean(value) or []
        order = [self.coerce(key) for key, _ in self.choices]
        return sorted(set(chosen), key=order.index)


def weekdays_field(**kwargs) -> CheckboxListField:
    kwargs.setdefault("help_text", "Tick the days it applies to; none ticked means every day.")
    return CheckboxListField(choices=WEEKDAYS, coerce=int, **kwargs)


class NameListField(forms.CharField):
    """Label names typed as text, comma separated: `service, cluster`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "service, cluster", "class": "vTextField"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        names = [n for n in re.split(r"[\s,]+", (value or "").strip()) if n]
        for name in names:
            if not LABEL_NAME.match(name):
                raise ValidationError(
                    f"“{name}” is not a label name: use letters, digits and underscores, not starting with a digit."
                )
        return list(dict.fromkeys(names))


class EmailListField(forms.CharField):
    """E-mail addresses typed as text, separated by commas, spaces or new lines."""

    def __init__(self, **kwargs):
        attrs = {"placeholder": "oncall@example.com, lead@example.com", "class": "vTextField hive-wide"}
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        addresses = [a for a in re.split(r"[\s,;]+", (value or "").strip()) if a]
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"“{address}” is not an e-mail address.") from None
        return addresses


@dataclass(frozen=True)
class Column:
    """One column of a RowsField: the JSON key, its heading and how its cells are checked."""

    key: str
    label: str
    number: bool = False
    min: float | None = None
    max: float | None = None
    placeholder: str = ""

    def parse(self, text: str, row: int) -> Any:
        if not self.number:
            return text
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            raise ValidationError(f"Row {row}: “{self.label}” must be a number, not “{text}”.") from None
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ValidationError(f"Row {row}: “{self.label}” must be from {self.min:g} to {self.max:g}.")
        return int(value) if value.is_integer() else value


class RowsWidget(forms.Widget):
    """A table with one input per cell; inputs are named `<name>-<row>-<key>`."""

    template_name = "admin/widgets/rows.html"

    def __init__(self, columns: list[Column], attrs=None):
        super().__init__(attrs)
        self.columns = columns

    class Media:
        js = [WIDGETS_JS]

    def _render(self, template_name, context, renderer=None):
        """From the project's templates (the default form renderer only sees Django's own)."""
        return mark_safe(render_to_string(template_name, context))  # noqa: S308 - an escaped template

    def value_from_datadict(self, data, files, name):
        pattern = re.compile(rf"^{re.escape(name)}-(\d+)-(\w+)$")
        rows: dict[int, dict[str, str]] = {}
        for key in data:
            match = pattern.match(key)
            if match:
                rows.setdefault(int(match[1]), {})[match[2]] = str(data.get(key, "")).strip()
        return [rows[i] for i in sorted(rows)]

    def value_omitted_from_data(self, data, files, name):
        return False  # no rows posted means an empty table, not a missing field

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [
            row for row in (value or []) if isinstance(row, dict) and any(v not in (None, "") for v in row.values())
        ]
        context["columns"] = self.columns
        context["rows"] = [
            {"index": i, "cells": [(c, "" if row.get(c.key) is None else row.get(c.key)) for c in self.columns]}
            for i, row in enumerate([*rows, {}])  # one empty row to fill in
        ]
        context["next_index"] = len(rows) + 1
        return context


class RowsField(forms.Field):
    """A JSON list of objects (one per row) edited as a table; empty rows are dropped."""

    def __init__(self, *, columns: list[Column], **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", RowsWidget(columns))
        super().__init__(**kwargs)
        self.columns = columns

    def prepare_value(self, value):
        return value

    def to_python(self, value):
        if not isinstance(value, list):
            return []
        rows = []
        for number, raw in enumerate([r for r in value if isinstance(r, dict) and any(r.values())], start=1):
            row = {}
            for column in self.columns:
                text = str(raw.get(column.key, "")).strip()
                if not text:
                    raise ValidationError(f"Row {number}: fill in “{column.label}” or clear the whole row.")
                row[column.key] = column.parse(text, number)
            rows.append(row)
        return rows


class KeyValueField(RowsField):
    """A JSON object of strings (labels) edited as a two-column table."""

    def __init__(self, **kwargs):
        columns = [Column("name", "Label name", placeholder="team"), Column("value", "Value", placeholder="payments")]
        super().__init__(columns=columns, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return [{"name": k, "value": v} for k, v in value.items()]
        return value

    def to_python(self, value):
        pairs = {}
        for number, row in enumerate(super().to_python(value), start=1):
            if not LABEL_NAME.match(row["name"]):
                raise ValidationError(
                    f"Row {number}: “{row['name']}” is not a label name: use letters, digits and underscores."
                )
            pairs[row["name"]] = row["value"]
        return pairs


@dataclass
class KindSetting:
    """A setting stored under `key` in a JSON field, shown for `kinds` and required for
    `required_for` (a subset of `kinds`)."""

    key: str
    field: forms.Field
    kinds: tuple[str, ...]
    required_for: tuple[str, ...] = ()
    secret: bool = False  # write-only: left empty on a change, the stored value stays
    words: dict[str, str] = field(default_factory=dict)


class KindSettingsMixin:
    """For a ModelForm: `json_field` (e.g. "params") is edited through the form fields
    `<json_field>__<key>` declared by `kind_settings`; `kind_field` picks which apply. The JSON
    field itself stays out of the form; errors the model raises for it land on the setting they
    name (or on the kind)."""

    json_field = "params"
    kind_field = "kind"
    kind_settings: list[KindSetting] = []

    def __init_subclass__(cls, **kwargs):
        """Declare one form field per setting (the admin only accepts declared fields)."""
        super().__init_subclass__(**kwargs)
        if "kind_settings" not in cls.__dict__:
            return
        for setting in cls.kind_settings:
            form_field = copy.deepcopy(setting.field)
            form_field.required = False  # required only for some kinds: checked in clean()
            form_field.widget.attrs.update({"data-kinds": " ".join(setting.kinds), "data-kind-field": cls.kind_field})
            cls.declared_fields[cls.setting_name(setting)] = form_field

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop(self.json_field, None)  # edited through the settings only
        stored = getattr(self.instance, self.json_field, None) or {}
        for setting in self.kind_settings:
            name = self.setting_name(setting)
            if name not in self.fields:
                continue
            if setting.secret and stored.get(setting.key):
                self.fields[name].widget.attrs["placeholder"] = "stored and hidden: leave empty to keep it"
            elif setting.key in stored and name not in self.initial:
                self.initial[name] = stored[setting.key]
        if self.kind_field in self.fields:
            self.fields[self.kind_field].widget.attrs["data-kind-select"] = self.kind_field

    @classmethod
    def setting_name(cls, setting: KindSetting) -> str:
        return f"{cls.json_field}__{setting.key}"

    def clean(self):
        data = super().clean()
        kind = data.get(self.kind_field) or getattr(self.instance, self.kind_field, "")
        stored = getattr(self.instance, self.json_field, None) or {} if self.instance.pk else {}
        values = {}
        for setting in self.kind_settings:
            if kind not in setting.kinds:
                continue
            name = self.setting_name(setting)
            if name not in self.fields:
                continue
            value = data.get(name)
            if setting.secret and value in (None, "") and stored.get(setting.key):
                value = stored[setting.key]  # write-only: kept
            if value in (None, "", []):
                if kind in setting.required_for:
                    self.add_error(name, f"Required for {self.kind_label(kind)}.")
                continue
            values[setting.key] = value
        setattr(self.instance, self.json_field, values)
        return data

    def kind_label(self, kind: str) -> str:
        choices = dict(self.fields[self.kind_field].choices) if self.kind_field in self.fields else {}
        return str(choices.get(kind, kind))

    def add_error(self, field, error):
        """Model errors about the JSON field go to the setting they name, else to the kind."""
        if isinstance(error, ValidationError) and hasattr(error, "error_dict") and self.json_field in error.error_dict:
            messages = error.error_dict.pop(self.json_field)
            for message in messages:
                target = self.setting_for(" ".join(message.messages))
                if target not in self.errors:  # else the form's own message in words is there
                    self.add_error(target, message)
            if not error.error_dict:
                return
        if field == self.json_field:
            field = self.setting_for(str(error))
        super().add_error(field, error)

    def setting_for(self, text: str) -> str:
        for setting in sorted(self.kind_settings, key=lambda s: -len(s.key)):
            name = self.setting_name(setting)
            if re.search(rf"\b{re.escape(setting.key)}\b", text) and name in self.fields:
                return name
        return self.kind_field if self.kind_field in self.fields else None


def one_team_initial(form_field, request) -> None:
    """Preselect the team in a new object's form when the user can pick exactly one."""
    if form_field is None or not hasattr(form_field, "queryset") or request.user.is_superuser:
        return
    teams = list(form_field.queryset[:2])
    if len(teams) == 1:
        form_field.initial = teams[0].pk
