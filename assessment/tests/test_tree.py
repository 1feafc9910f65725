"""The one walker over an organisation's team tree (pure, no database)."""

from assessment.tree import Tree

# 1 Retail -> 2 Online -> 4 Web, 5 App; 1 -> 3 Stores; 6 a root team
LINKS = [(1, None), (2, 1), (3, 1), (4, 2), (5, 2), (6, None)]


def test_descendants_ancestors_and_subtrees():
    tree = Tree(LINKS)
    assert tree.descendants(1) == {2, 3, 4, 5}
    assert tree.descendants(4) == set()
    assert tree.ancestors(5) == [2, 1]
    assert tree.subtree(2) == {2, 4, 5}
    assert tree.subtree(None) == {1, 2, 3, 4, 5, 6}
    assert tree.children(2) == [4, 5]
    assert tree.roots() == [1, 6]


def test_walk_is_depth_first_with_siblings_in_the_given_order():
    names = {1: "Retail", 2: "Online", 3: "Stores", 4: "Web", 5: "App", 6: "Alpha"}
    walked = list(Tree(LINKS).walk(sort_key=lambda n: names[n]))
    assert walked == [(6, 0), (1, 0), (2, 1), (5, 2), (4, 2), (3, 1)]


def test_a_parent_outside_the_rows_makes_a_root():
    tree = Tree([(10, 99), (11, 10)])
    assert tree.roots() == [10]
    assert tree.ancestors(11) == [10]


def test_a_loop_in_the_links_ends_every_walk():
    tree = Tree([(1, 2), (2, 1), (3, None)])
    assert tree.ancestors(1) == [2]
    assert tree.descendants(1) == {2}
    assert [n for n, _ in tree.walk()] == [3]
