"""Background material for generated videos: what fills the timeline between the scenes that matter.

Each :class:`Domain` lists neutral shots and places, on-screen captions, props, background
sounds and chatter for one kind of video (a kitchen, a street, a home, ...). None of it carries
an answer or the words of a question's values, so it only costs an agent attention.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Domain:
    """Neutral timeline material for one setting.

    Arguments:
        name: the setting's name.
        shots: camera phrasings ("a wide shot of"), combined with ``places``.
        places: what a background shot shows ("the kitchen window").
        actions: full background descriptions ("the cook wipes down the counter").
        captions: on-screen text (kind ``text``).
        props: objects that happen to be in view (kind ``object``).
        sounds: background sounds (kind ``sound``).
        lines: incidental speech (kind ``speech``).
    """

    name: str
    shots: tuple[str, ...]
    places: tuple[str, ...]
    actions: tuple[str, ...]
    captions: tuple[str, ...]
    props: tuple[str, ...]
    sounds: tuple[str, ...]
    lines: tuple[str, ...]

    def background(self) -> list[str]:
        """Every background visual description, in a fixed order."""
        return _background(self)


@lru_cache(maxsize=None)
def _background(domain: Domain) -> list[str]:
    return [f"{shot} {place}" for shot in domain.shots for place in domain.places] + list(domain.actions)


_SHOTS = ("a wide shot of", "a close-up of", "a slow pan across", "a static view of")

KITCHEN = Domain(
    name="kitchen",
    shots=_SHOTS,
    places=("the kitchen counter", "the stove top", "the window above the sink", "the open shelves",
            "the tiled wall behind the stove", "the kitchen island", "the hanging utensils"),
    actions=("the cook wipes down the counter", "the cook washes a cutting board in the sink",
             "the cook talks to the camera while the oven preheats", "the cook checks the recipe on a tablet",
             "the cook tidies used bowls into the dishwasher", "the cook dries a knife with a tea towel",
             "steam drifts up from the back of the stove", "the cook fetches a clean spoon from a drawer"),
    captions=("Recipe of the week", "Cooking at home", "Subscribe for more recipes", "Part of our weeknight series",
              "Kitchen diaries"),
    props=("a kettle on the back burner", "a jar of wooden spoons", "a potted herb on the windowsill",
           "a stack of clean plates", "a wall clock above the door"),
    sounds=("soft acoustic background music", "the hum of the extractor fan", "a dishwasher running",
            "cheerful background music"),
    lines=("okay, let's keep going", "this part is really easy", "don't worry if yours looks different",
           "I always clean as I go", "let me just wash my hands quickly"),
)

STREET = Domain(
    name="street",
    shots=_SHOTS,
    places=("a busy pedestrian street", "the entrance of a train station", "a shopping centre hallway",
            "a bus stop on a rainy day", "a crowded market square", "an office building lobby"),
    actions=("pedestrians cross at a zebra crossing", "a delivery van parks by the kerb",
             "people queue outside a bakery", "a cyclist rides past the camera",
             "a street musician tunes a guitar", "commuters hurry towards the escalators"),
    captions=("Hidden camera experiment", "Everyday kindness", "City life", "Filmed with permission"),
    props=("a red post box", "a row of parked bicycles", "a bench by a lamp post", "a rubbish bin at the corner"),
    sounds=("traffic noise", "a distant siren", "footsteps on pavement", "a busy crowd murmuring"),
    lines=("excuse me, sorry", "is this the right platform?", "see you tomorrow then", "have a good day"),
)

HOME = Domain(
    name="home",
    shots=_SHOTS,
    places=("a quiet street at dusk", "the living room of a small flat", "a staircase in an old house",
            "the front garden", "a rainy window", "a narrow hallway"),
    actions=("rain streaks down the window", "a car passes slowly outside", "a cat crosses the hallway",
             "the lights of the city come on", "a clock ticks on the mantelpiece", "leaves blow across the garden"),
    captions=("Episode", "Previously", "Later that evening", "The next morning"),
    props=("a lamp on a side table", "a pile of unopened mail", "a coat hanging by the door",
           "a framed photo on a shelf"),
    sounds=("tense background music", "rain on the roof", "a clock ticking", "a dog barking far away"),
    lines=("are you still awake?", "we need to talk later", "I'll be back before dinner", "did you hear that?"),
)

ROOM = Domain(
    name="room",
    shots=_SHOTS,
    places=("the ceiling lights", "the painted walls", "the wooden floor", "the doorway", "the skirting boards",
            "the far corner of the room"),
    actions=("the camera holds still for a moment", "sunlight moves slowly across the floor",
             "the camera adjusts its focus", "a shadow passes across the wall"),
    captions=("Room survey", "Multi-camera recording", "Take 3", "Recording in progress"),
    props=("a light switch by the door", "a radiator under the window", "a smoke alarm on the ceiling",
           "a power socket on the wall"),
    sounds=("quiet room tone", "a faint air conditioner hum", "muffled traffic outside"),
    lines=("recording now", "is camera two running?", "okay, hold it there"),
)

SHOP = Domain(
    name="shop",
    shots=_SHOTS,
    places=("the checkout counters", "the shop entrance", "the price labels", "the end of the aisle",
            "the overhead signs", "the trolley bay"),
    actions=("a shopper pushes a trolley down the aisle", "a shop assistant restocks a display",
             "a child points at something on a shelf", "the camera walks slowly past the tills"),
    captions=("Store walk-through", "Open seven days a week", "Stock check", "Aisle tour"),
    props=("a stack of shopping baskets", "a price scanner", "a wet floor sign", "a pile of flattened boxes"),
    sounds=("shop background music", "a till beeping", "trolley wheels rattling", "an announcement chime"),
    lines=("can I help you find anything?", "we close at eight tonight", "this aisle is nearly done"),
)

FARM = Domain(
    name="farm",
    shots=_SHOTS,
    places=("the farmyard", "a muddy track", "the fields beyond the fence", "a stack of hay bales",
            "the old tractor", "the farmhouse porch"),
    actions=("the farmer carries a bucket across the yard", "the wind moves through the long grass",
             "the farmer closes a gate behind him", "clouds drift over the fields"),
    captions=("A day on the farm", "Early morning", "Farm life", "Chores"),
    props=("a wheelbarrow by the wall", "a coil of rope on a post", "a pair of boots by the door"),
    sounds=("wind blowing across the microphone", "light rain", "a distant tractor engine"),
    lines=("right, next job", "it's colder than it looks", "nearly done for the morning"),
)

DOMAINS: dict[str, Domain] = {d.name: d for d in (KITCHEN, STREET, HOME, ROOM, SHOP, FARM)}
