"""The destination schema plan: attributes per model, names, types, the 250 limit, tags."""

from __future__ import annotations

from helpmig_tui.mapping.apply import SOURCE_ID_ATTRIBUTE
from helpmig_tui.mapping.model import AttributeTarget, FieldMap, MigrationMap, ObjectMap, ObjectOptions, TagTarget
from helpmig_tui.mapping.propose import propose_map
from helpmig_tui.mapping.schema_plan import ExistingAttribute, plan_schema
from helpmig_tui.mapping.standard import TargetKind as K
from helpmig_tui.mapping.transforms import Truncate, ValueMap
from tests.support.mapping_corpus import load_cases


def _by(plan, model, name):
    return next(a for a in plan.attributes if a.model == model and a.logical == name)


def test_the_itsm365_plan_lists_attributes_per_model_with_intercom_types():
    case = load_cases("itsm365")[0]
    plan = plan_schema(propose_map(case.evidence), evidence=case.evidence)
    assert plan.problems == []
    priority = _by(plan, "conversation", "itsm_priority")
    assert priority.data_type == "list" and priority.options == ["Critical", "High", "Low", "Medium"]
    assert sorted(priority.sources) == ["incidents.priority_name", "service_requests.priority_name"]
    assert _by(plan, "conversation", "itsm_sla_deadline").data_type == "datetime"
    assert _by(plan, "contact", "itsm_position").data_type == "string"
    for model in ("contact", "company", "conversation"):
        assert _by(plan, model, SOURCE_ID_ATTRIBUTE).creates
    manual = _by(plan, "custom_object:ProblemRecord", "itsm_problem_id")
    assert manual.status == "manual" and not manual.creates
    assert any("define ChangeRequest, ProblemRecord" in w for w in plan.warnings)
    assert plan.data_attributes_used == 0 and plan.data_attributes_after == len(plan.to_create("contact")) + len(
        plan.to_create("company"))


def test_names_are_settled_across_models_before_the_load():
    """Intercom keeps contact and company attribute names unique across both models, any
    case, standard and archived attributes included: a taken name is renamed in the plan."""
    mmap = MigrationMap(platform="memory", objects=[
        ObjectMap(object="people", target=K.CONTACT), ObjectMap(object="orgs", target=K.COMPANY)], fields=[
        FieldMap(object="people", field="a", target=AttributeTarget(name="tier", data_type="string")),
        FieldMap(object="people", field="b", target=AttributeTarget(name="email", data_type="string")),
        FieldMap(object="people", field="c", target=AttributeTarget(name="seats", data_type="integer")),
        FieldMap(object="people", field="d", target=AttributeTarget(name="Region", data_type="string")),
        FieldMap(object="orgs", field="e", target=AttributeTarget(name="tier", data_type="string")),
        FieldMap(object="orgs", field="f", target=AttributeTarget(name="Plan", data_type="string")),
    ])
    existing = [
        ExistingAttribute("tier", "contact", "string", custom=True, id="7"),
        ExistingAttribute("email", "contact", "string", custom=False),
        ExistingAttribute("plan", "company", "string", custom=False),
        ExistingAttribute("seats", "contact", "string"),
        ExistingAttribute("region", "contact", "string", archived=True),
    ]
    plan = plan_schema(mmap, existing)
    by_key = {a.key: a for a in plan.attributes}
    assert (by_key["contact:tier"].status, by_key["contact:tier"].name, by_key["contact:tier"].id) == ("exists", "tier", "7")
    assert by_key["company:tier"].name == "tier_company"  # the contacts' tier holds the name
    assert by_key["contact:email"].name == "email_contact"  # a standard attribute holds it
    assert by_key["contact:seats"].name == "seats_contact"  # a string of that name exists; the map writes integer
    assert by_key["contact:Region"].name == "Region_contact"  # archived names stay taken
    assert by_key["company:Plan"].name == "Plan_company"
    assert by_key[f"contact:{SOURCE_ID_ATTRIBUTE}"].name == SOURCE_ID_ATTRIBUTE
    assert by_key[f"company:{SOURCE_ID_ATTRIBUTE}"].name == f"{SOURCE_ID_ATTRIBUTE}_company"
    assert plan.problems == []
    assert len([w for w in plan.warnings if "is created as" in w]) == 6
    names = [a.name.casefold() for a in plan.attributes if a.model in ("contact", "company")]
    assert len(names) == len(set(names))
    assert plan.data_attributes_used == 2  # the custom, unarchived ones


def test_settled_names_are_kept_and_archived_ones_of_ours_come_back():
    mmap = MigrationMap(platform="memory", objects=[ObjectMap(object="orgs", target=K.COMPANY)], fields=[
        FieldMap(object="orgs", field="e", target=AttributeTarget(name="tier", data_type="string"))])
    first = plan_schema(mmap, [ExistingAttribute("tier", "contact", "string")])
    assert first.names() == {"company:tier": "tier_company", f"company:{SOURCE_ID_ATTRIBUTE}": SOURCE_ID_ATTRIBUTE}
    # the contact attribute is gone (archived elsewhere), a rollback archived ours: the names stay
    later = plan_schema(mmap, [ExistingAttribute("tier_company", "company", "string", archived=True, id="9")],
                        settled=first.names())
    tier = next(a for a in later.attributes if a.logical == "tier")
    assert (tier.name, tier.status, tier.id) == ("tier_company", "unarchive", "9")
    # someone else's archived attribute of the name is not ours to bring back
    stranger = plan_schema(mmap, [ExistingAttribute("tier", "company", "string", archived=True, id="3")])
    assert next(a for a in stranger.attributes if a.logical == "tier").name == "tier_company"


def test_one_name_with_two_types_in_a_model_is_a_conflict():
    mmap = MigrationMap(platform="memory", objects=[
        ObjectMap(object="a", target=K.CONVERSATION), ObjectMap(object="b", target=K.CONVERSATION)], fields=[
        FieldMap(object="a", field="x", target=AttributeTarget(name="code", data_type="integer")),
        FieldMap(object="b", field="y", target=AttributeTarget(name="code", data_type="string")),
    ])
    plan = plan_schema(mmap)
    assert plan.problems == ["conversation attribute code: a.x write integer, b.y writes string"]


def test_the_250_limit_is_enforced_and_approached_with_a_warning():
    fields = [FieldMap(object="people", field=f"f{i}", target=AttributeTarget(name=f"a{i}")) for i in range(12)]
    mmap = MigrationMap(platform="memory", objects=[ObjectMap(object="people", target=K.CONTACT)], fields=fields)
    crowded = [ExistingAttribute(f"old{i}", "contact", "string") for i in range(240)]
    plan = plan_schema(mmap, crowded)
    assert plan.data_attributes_after == 240 + 12 + 1  # plus helpmig_source_id
    assert plan.problems[-1].startswith("253 custom contact and company attributes would exceed Intercom's limit of 250")
    roomy = plan_schema(mmap, crowded[:220] + [ExistingAttribute("gone", "contact", "string", archived=True)])
    assert roomy.problems == [] and roomy.warnings == ["233 of 250 custom contact and company attributes would be in use"]


def test_tags_flags_and_thin_options_are_planned():
    mmap = MigrationMap(platform="memory", objects=[
        ObjectMap(object="t", target=K.CONVERSATION, options=ObjectOptions(tag="problem"))], fields=[
        FieldMap(object="t", field="kind", target=TagTarget(prefix="type:"),
                 transforms=[ValueMap(mapping={"1": "Incident", "2": "Request", "3": ""})]),
        FieldMap(object="t", field="notes", target=AttributeTarget(name="notes"),
                 transforms=[Truncate(max_length=255, tag="helpmig-truncated", flag_attribute="notes-cut")]),
        FieldMap(object="t", field="level", target=AttributeTarget(name="level", data_type="options")),
        FieldMap(object="t", field="bad", target=AttributeTarget(name="ok"),
                 transforms=[Truncate(max_length=5, flag_attribute="not ok!")]),
    ])
    plan = plan_schema(mmap)
    assert plan.tags == ["helpmig-truncated", "problem", "type:Incident", "type:Request"]
    assert _by(plan, "conversation", "notes-cut").data_type == "boolean"
    assert _by(plan, "conversation", "level").data_type == "string"
    assert plan.warnings == ["t.level: fewer than two known values for an options attribute; created as text"]
    assert _by(plan, "conversation", "not ok!").status == "invalid"
    assert plan.problems[0].startswith("conversation attribute 'not ok!': '!' is not allowed")
