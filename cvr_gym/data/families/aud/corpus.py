"""AUD: answers that are only heard (single): a spoken secret ingredient, a sound on a door.

- Speech: in one video a host card (``("THE HOST", "SHARES A TIP")``) comes with the sentence
  "The secret ingredient is ginger."; other videos have host cards with other sentences naming
  other options, and a card shows another option as on-screen text (a visual decoy).
- Sound: in a named video, a ``"THE DOOR OPENS"`` card comes with a high beep, a low beep or a
  noise burst; the door in other videos and a ``"THE WINDOW OPENS"`` card sound different.

Ingredient words are ones Whisper tiny.en recognised in four windows out of four in the
renderer's espeak-ng voice after AAC coding ("butter", "peanut", "celery" failed).
"""

from __future__ import annotations

import random
import re

from cvr_gym.data.corpus.groups import Group, Question, build_videos, letter, narrated
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card, speech_slot
from cvr_gym.data.corpus.plan import Sound
from cvr_gym.data.corpus.match import closest, lines_like, norm, of_kind, phrase_score, quoted, together, words_after
from cvr_gym.data.corpus.reading import CorpusReader
from cvr_gym.core.evidence import Evidence

CODE = "AUD"
MARK = "says the secret ingredient out loud"
SOUND_MARK = "what is heard while the caption"
INGREDIENTS = ("HONEY", "GINGER", "CINNAMON", "GARLIC", "LEMON", "PEPPER", "COCONUT", "MINT", "CHOCOLATE",
               "VANILLA", "PUMPKIN", "ORANGE")
DECOYS = ("Next we add a little {x}.", "Some people put {x} in it.", "I do not like {x} at all.")
#: Sound option -> how the sound is made.
SOUNDS = {"a high beep": ("tone", 1500.0), "a low beep": ("tone", 300.0), "a burst of noise": ("noise", 0.0)}
#: Sound option -> the offline audio backend's label for it.
SOUND_LABELS = {"a high beep": "high beep", "a low beep": "low beep", "a burst of noise": "noise burst"}
HOST = ("THE HOST", "SHARES A TIP")
TITLES = ("KITCHEN TALK", "FARM HOUSE", "OPEN DAY")

INTRO = narrated("KITCHEN TALK", "Welcome to kitchen talk.")


def _talk(rng: random.Random, sentence: str, tag: str | None = None) -> Card:
    slot = speech_slot(sentence)
    bg = background(rng)
    return Card(slot + 1.5, bg, HOST, decoration(rng, bg, 2), (Sound(0.5, 0.5 + slot, "speech", sentence),), tag=tag)


def _sound_card(rng: random.Random, caption: str, option: str, tag: str | None = None) -> Card:
    kind, hz = SOUNDS[option]
    bg = background(rng)
    start = rng.choice((0.5, 1.0))
    return Card(3.5, bg, (caption,), decoration(rng, bg, 2), (Sound(start, start + 0.8, kind, hz=hz),), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = rng.randint(2, 3)
    secret, *others = rng.sample(INGREDIENTS, 4)
    speaker = rng.randrange(n)
    door_video = rng.randrange(n)
    door_sound = rng.choice(sorted(SOUNDS))
    per_video: list[list[Card]] = [[] for _ in range(n)]
    per_video[speaker].append(_talk(rng, f"The secret ingredient is {secret.lower()}.", tag="secret"))
    for v, x in zip([v for v in range(n) if v != speaker] + [speaker], others[:2]):
        per_video[v].append(_talk(rng, rng.choice(DECOYS).format(x=x.lower())))
    bg = background(rng)
    per_video[rng.randrange(n)].append(Card(3.0, bg, ("ON THE COUNTER", others[2]), decoration(rng, bg, 2)))
    for v in range(n):
        sound = door_sound if v == door_video else rng.choice([s for s in SOUNDS if s != door_sound])
        per_video[v].append(_sound_card(rng, "THE DOOR OPENS", sound, tag="door"))
    window = rng.choice([s for s in SOUNDS if s != door_sound])
    per_video[door_video].append(_sound_card(rng, "THE WINDOW OPENS", window))
    videos = build_videos(rng, prefix, per_video, lambda i: lambda r: filler_card(r, TITLES),
                          intro=INTRO)

    options = [x.lower() for x in (secret, *others)]
    rng.shuffle(options)
    spoken = Question(f"In one of the videos the host {MARK}. What is it?", "single",
                      letter(options.index(secret.lower())), [(speaker + 1, "secret")], options, chance=0.25)
    sound_opts = sorted(SOUNDS)
    heard = Question(f'In video {door_video + 1}, {SOUND_MARK} "THE DOOR OPENS" is on screen?', "single",
                     letter(sound_opts.index(door_sound)), [(door_video + 1, "door")], sound_opts, chance=1 / 3)
    return Group(videos, [spoken, heard])


class AUDReader(CorpusReader):
    """The option named in the "secret ingredient" sentence, or the sound heard on the door card."""

    code, marks = CODE, (MARK, SOUND_MARK)

    def read(self, view, evidence):
        if norm(SOUND_MARK) in norm(view.question):
            return self._sound(view, evidence)
        for text in self._utterances(evidence):
            # Recognisers run sentences together ("... like orange at all. The secret ingredient is
            # mint."): only the words after "secret ingredient", in its sentence, name it.
            tail = words_after(text, "secret ingredient")
            if not tail:
                continue
            # The best option, even a loose match: "cocoa" is still closer to coconut than to ginger.
            scores = [phrase_score(tail, opt) for opt in view.options]
            if scores and max(scores) >= 0.5:
                return letter(scores.index(max(scores)))
        return self.guess(view)

    @staticmethod
    def _utterances(evidence: list[Evidence]) -> list[str]:
        """Each speech record, and each joined with the next one of its video when they are under
        a second apart (recognisers split sentences)."""
        speech = sorted(of_kind(evidence, "speech"), key=lambda ev: (ev.video, ev.start))
        out = [ev.content for ev in speech]
        for a, b in zip(speech, speech[1:]):
            if a.video == b.video and 0 <= b.start - a.end < 1.0:
                out.append(f"{a.content} {b.content}")
        return out

    def _sound(self, view, evidence):
        m = re.search(r"In video (\d+)", view.question)
        caption = quoted(view.question)[0]
        video = int(m.group(1)) if m else None
        for anchor in lines_like(evidence, caption, 0.8, video):
            for ev in together(anchor, evidence, "sound", slack=0.3):
                for i, opt in enumerate(view.options):
                    if SOUND_LABELS.get(opt) == closest(ev.content, SOUND_LABELS.values(), 0.8):
                        return letter(i)
        return self.guess(view)


#: The corpus reader of AUD questions.
READER = AUDReader()
