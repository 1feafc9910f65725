"""Slots: higher apps add content to a lower app's page without being imported."""

from finops_portal.slots import Slot


def test_a_slot_collects_every_provider_in_order_and_drops_none():
    slot = Slot("test.page")
    slot.register(lambda request, **context: f"first {context['n']}")
    slot.register(lambda request, **context: None)
    slot.register(lambda request, **context: "third")

    assert slot.collect(None, n=1) == ["first 1", "third"]


def test_a_provider_registers_once():
    slot = Slot("test.page")

    def provider(request, **context):
        return "x"

    slot.register(provider)
    slot.register(provider)
    assert slot.collect(None) == ["x"]
