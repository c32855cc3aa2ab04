"""solutions.mistakes: the names that wrong versions give their demo students."""

from solutions.mistakes import WrongVersion


def test_a_variant_tells_apart_two_wrong_versions_of_one_mistake_in_one_object():
    assert WrongVersion("m", {"A.call": "x:a", "f": "x:f"}, ("t",)).name == "m-A.call+f"
    first, second = (WrongVersion("m", {"A.call": f"x:{v}"}, ("t",), v) for v in ("a", "b"))
    assert (first.name, second.name) == ("m-A.call-a", "m-A.call-b")
