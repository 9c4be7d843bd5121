from ragalib.evaluation import candidates, findings

AUTO, FLAT, GIVEN = candidates.SONG_VARIANTS
W, AUG = candidates.WITH_PITCH, candidates.AUGMENTED


def table(right, n=60):
    return [{"model": m, "pipeline": p, "song accuracy": k / n} for (m, p), k in right.items()]


def counts(changes=()):
    right = {}
    for cnn in ("melody", "melody" + AUG):
        right.update({(cnn, AUTO): 50, (cnn, FLAT): 10, (cnn, GIVEN): 52, (cnn + W, AUTO): 57})
    right.update({("mfcc", AUTO): 6, ("mfcc" + W, AUTO): 40, (candidates.PCD, AUTO): 57,
                  (candidates.PCD, FLAT): 57})
    right.update(dict(changes))
    return right


def test_every_sentence_holds_on_results_that_bear_it_out():
    claims = findings.song_claims(table(counts()), 60)
    assert len(claims) == 10 and all(holds for _, holds in claims)
    assert claims[0][0].startswith("The published MFCC model is at chance on the songs: 6/60 songs")


def test_a_sentence_is_flagged_as_soon_as_its_result_changes():
    broken = {("mfcc", AUTO): 30,                      # far above chance
              ("melody", FLAT): 30,                    # transposition no longer matters
              ("melody", GIVEN): 54,                   # four songs gained by the true Sa
              (candidates.PCD, FLAT): 55}                 # the baseline needs Sa after all
    said = dict(findings.song_claims(table(counts(broken)), 60))
    failed = [s for s, holds in said.items() if not holds]
    assert len(failed) == 4
    assert any("at chance" in s for s in failed) and any("needs no transposition" in s for s in failed)


def test_confusion_lines_name_the_degrees_a_confused_pair_differs_in():
    rows = [{"raga": "kafi"}, {"raga": "kafi"}, {"raga": "yaman"}]
    answers = {("m", AUTO): ["darbari", "kafi", "yaman"]}
    lines = findings.confusion_lines(rows, answers, ["m"])
    assert lines[0] == "m: 1 of 3 songs wrong; the most frequent confusions:"
    assert lines[1].endswith("and differ in Dha")
