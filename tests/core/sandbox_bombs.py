"""Ways a script can make the server build something huge or work for ages in one C call.

Each is (id, kind, code, words): `kind` is "eval" (an expression) or "exec" (a script), and
the refusal's message must contain `words`, which names the limit. Every one of these was
accepted before the sandbox measured its growth paths (or crashed the process: hashing a
deeply nested tuple). `MEMORY_BOMBS` grow in a loop of small steps; only the memory check
stops them.
"""

SHARED = "a = ['x']\nfor i in range(40):\n    a = [a, a]\n"
WIDE = "a = [1]\nfor i in range(3):\n    a = [a] * 1000\nb = [1]\nfor i in range(3):\n    b = [b] * 1000\n"
LONG_TEXTS = "s = 'a' * 999999\nt = 'a' * 999998 + 'b'\na = [s] * 999999\n"
DEEP_TUPLE = "t = ()\nfor i in range(200000):\n    t = (t,)\n"
# Two dicts whose union is over the limit; they run with a limit of 100,000 items (see
# `LIMITS`), so that building them does not hide the memory of the bomb itself.
BIG_DICTS = "d = dict(zip(range(60000), range(60000)))\ne = dict(zip(range(-60000, 0), range(60000)))\n"
NAMED_DICTS = ("d = dict(zip(map(str, range(60000)), range(60000)))\n"
               "e = dict(zip(map(str, range(-60000, 0)), range(60000)))\n")
ITEMS = "over the limit of 1,000,000"

BOMBS: list[tuple[str, str, str, str]] = [
    # %-formatting: many fields, a value written many times, precision, a shared container.
    ("printf_many_fields", "eval", "('%s' * 1000) % (('x' * 100000,) * 1000)", "%-formatting would write"),
    ("printf_mapping_reused", "eval", "('%(a)s' * 50) % {'a': 'x' * 100000}", "%-formatting would write"),
    ("printf_precision", "eval", "'%.600000f%.600000f' % (1.0, 2.0)", "%-formatting would write"),
    ("printf_container", "eval", "'%s' % ([['x' * 1000] * 1000] * 1000,)", "%-formatting would write more than"),
    ("printf_repr_of_shared", "exec", SHARED + "t = '%r' % (a,)", "nested more than 32 levels"),
    # str.format: fields reusing an argument, many arguments, a container.
    ("format_reused_field", "eval", "('{0}' * 100).format('x' * 100000)", "str.format() would write"),
    ("format_many_arguments", "eval", "('{}' * 1000).format(*(['x' * 100000] * 1000))", "str.format() would write"),
    ("format_container", "eval", "'{}'.format([['y' * 1000] * 1000] * 100)", "str.format() would write more"),
    ("format_strftime_spec", "eval", "('{:' + '%c' * 100000 + '}').format(datetime(2020, 1, 1))",
     "str.format() would write"),
    # f-strings: several big fields, !r of a container, a shared structure.
    ("fstring_fields", "exec", "s = 'x' * 400000\nt = f'{s}{s}{s}'", "an f-string would write"),
    ("fstring_repr_container", "exec", "a = [['x' * 1000] * 1000] * 100\nt = f'{a!r}'", "an f-string would write"),
    ("fstring_shared", "exec", SHARED + "t = f'{a}'", "nested more than 32 levels"),
    # Joins materialize their iterable first.
    ("join_of_iterator", "eval", "'-'.join(map(str, range(10**6)))", "str.join() would create"),
    ("join_of_repeated", "eval", "''.join(['ab' * 1000] * 1000)", "str.join() would create"),
    ("join_of_long_generator", "eval", "'-'.join('x' for x in range(2) for y in range(10**6))",
     "str.join() would create"),
    # Repetition.
    ("tuple_repeat", "eval", "(1, 2) * 600000", ITEMS),
    ("list_repeat_in_place", "exec", "a = [0] * 1000\na *= 10000", ITEMS),
    # Unpacking into displays and calls.
    ("unpack_list", "eval", "[*range(600000), *range(600000)]", "unpacking into a list"),
    ("unpack_tuple", "eval", "(*range(600000), *range(600000))", "unpacking into a tuple"),
    ("unpack_set", "eval", "{*range(600000), *range(-600000, 0)}", "unpacking into a set"),
    ("unpack_dict", "exec", BIG_DICTS + "f = {**d, **e}", "unpacking into a dict would create 120,000"),
    ("unpack_call_arguments", "exec", "print(*range(600000), *range(600000))", "unpacking into a tuple"),
    ("unpack_call_keywords", "exec", NAMED_DICTS + "f = dict(**d, **e)", "unpacking into a dict"),
    ("unpack_long_generator", "eval", "[*(y for x in range(2) for y in range(10**6))]", "unpacking would create"),
    # Slice assignment grows a list with no operator in sight.
    ("slice_assign_doubles", "exec", "a = list(range(600000))\na[:0] = a", "slice assignment would create"),
    ("slice_assign_loop", "exec", "a = list(range(1000))\nwhile True:\n    a[len(a):] = a", "slice assignment"),
    ("slice_assign_iterator", "exec", "a = list(range(600000))\na[1:1] = map(abs, range(600000))",
     "slice assignment would create"),
    # Conversions that materialize an iterator or write a container out.
    ("list_of_generator", "eval", "list(x for x in range(10**6) for y in range(10))", "list() would create"),
    ("tuple_of_generator", "eval", "tuple(y for x in range(2) for y in range(10**6))", "tuple() would create"),
    ("set_of_generator", "eval", "set(y for x in range(2) for y in range(10**6))", "set() would create"),
    ("sorted_of_generator", "eval", "sorted(y for x in range(2) for y in range(10**6))", "sorted() would create"),
    ("extend_with_iterator", "exec", "a = list(range(600000))\na.extend(map(abs, range(600000)))",
     "list.extend() would create"),
    ("str_of_container", "exec", "a = [['x' * 1000] * 1000] * 100\nt = str(a)", "str() would write more than"),
    ("str_of_shared", "exec", SHARED + "t = str(a)", "nested more than 32 levels"),
    ("str_of_exception", "exec", "a = [['x' * 1000] * 1000] * 100\nt = str(ValueError(a))", "str() would write"),
    ("int_from_hex", "eval", "int('f' * 100000, 16) // 3", "int() would create an integer"),
    ("int_from_binary", "eval", "int('1' * 100001, 2)", "int() would create an integer"),
    ("upper_grows_text", "eval", "('ß' * 600000).upper()", "str.upper() would create"),
    ("unbound_upper_grows_text", "eval", "str.upper('ß' * 600000)", "str.upper() would create"),
    ("strftime_grows_text", "eval", "datetime(2020, 1, 1).strftime('%c' * 100000)", "strftime() would create"),
    ("set_union_operator", "exec", "a = set(range(600000))\nb = a | set(range(-600000, 0))", "'|' would create"),
    ("set_update", "exec", "a = set(range(600000))\na.update(range(-600000, 0))", "update() would create"),
    ("dict_union_in_place", "exec", BIG_DICTS + "d |= e", "'|' would create"),
    # Hashing a deep tuple is unguarded C recursion in CPython: the process crashed.
    ("hash_deep_tuple_set", "exec", DEEP_TUPLE + "s = {t}", "nested more than 32 levels"),
    ("hash_deep_tuple_key", "exec", DEEP_TUPLE + "d = {}\nd[t] = 1", "nested more than 32 levels"),
    ("hash_deep_tuple_in", "exec", DEEP_TUPLE + "x = t in {1: 2}", "nested more than 32 levels"),
    ("hash_deep_tuple_get", "exec", DEEP_TUPLE + "x = {}.get(t)", "nested more than 32 levels"),
    ("hash_deep_tuple_set_call", "exec", DEEP_TUPLE + "x = set([t])", "nested more than 32 levels"),
    ("hash_deep_tuple_dict_call", "exec", DEEP_TUPLE + "x = dict([(t, 1)])", "nested more than 32 levels"),
    ("hash_deep_tuple_view", "exec", DEEP_TUPLE + "x = {1: 2}.keys() & [t]", "nested more than 32 levels"),
    ("hash_deep_tuple_comprehension", "exec", DEEP_TUPLE + "x = {t: 1 for _ in [1]}", "nested more than 32 levels"),
    # Comparing values that share sub-objects: 10**9 steps in one C call (held a server 18-27 s).
    ("compare_shared_equal", "exec", WIDE + "c = a == b", "would go through more than"),
    ("compare_shared_order", "exec", WIDE + "c = (a,) < (b,)", "would go through more than"),
    ("compare_shared_in", "exec", WIDE + "c = a in [b]", "would go through more than"),
    ("compare_shared_count", "exec", WIDE + "c = [b].count(a)", "would go through more than"),
    ("compare_shared_tuple_count", "exec", WIDE + "c = (b,).count(a)", "would go through more than"),
    ("compare_shared_tuple_index", "exec", WIDE + "c = (1, b, a).index(a)", "would go through more than"),
    ("compare_shared_list_index", "exec", WIDE + "c = [1, b, a].index(a)", "would go through more than"),
    ("compare_shared_list_remove", "exec", WIDE + "c = [b, a]\nc.remove(a)", "would go through more than"),
    ("compare_shared_sort_method", "exec", WIDE + "c = [a, b]\nc.sort()", "would go through more than"),
    ("compare_shared_sorted", "exec", WIDE + "c = sorted([a, b])", "would go through more than"),
    ("compare_shared_max_key", "exec", WIDE + "c = max([1, 2], key=lambda v: a if v == 1 else b)",
     "max() would go through more than"),
    ("compare_shared_dicts", "exec", WIDE + "c = {'k': a} == {'k': b}", "would go through more than"),
    # Equal-length strings are compared character by character: one long string held a
    # million times made a single count() run for 84 s.
    ("compare_long_text_count", "exec", LONG_TEXTS + "c = a.count(t)", "would compare more than"),
    ("compare_long_text_in", "exec", LONG_TEXTS + "c = t in a", "would compare more than"),
    ("compare_long_text_index", "exec", LONG_TEXTS + "c = a.index(s)", "would compare more than"),
    ("compare_long_text_remove", "exec", LONG_TEXTS + "a.remove(t)", "would compare more than"),
    ("compare_long_text_tuple", "exec", LONG_TEXTS + "c = tuple(a).count(t)", "would compare more than"),
    ("compare_long_text_equal", "exec", LONG_TEXTS + "c = a[:1000] == [t] * 1000", "would compare more than"),
    ("compare_long_text_sorted", "exec", LONG_TEXTS + "c = sorted(a[:5000] + [t])", "would compare more than"),
    ("compare_long_text_sort_key", "exec", LONG_TEXTS + "c = sorted(range(5000), key=lambda i: s)",
     "the sort keys hold more text"),
    ("compare_long_text_max", "exec", LONG_TEXTS + "c = max(a)", "would compare more than"),
    ("repr_of_long_texts", "exec", LONG_TEXTS + "c = str(a)", "would write more than"),
    # JSON.
    ("json_loads_deep", "eval", "json_loads('[' * 10000 + ']' * 10000)", "nested more than 32 levels"),
    ("json_dumps_shared", "exec", WIDE + "t = json_dumps(a)", "json_dumps() would produce more than"),
    # What an expression hands to the engine, and the errors a script raises, reach the host.
    ("expression_value_shared", "eval", "[[[[1] * 1000] * 1000] * 1000]", "would be more than 10.0 MB"),
    ("expression_value_text", "eval", "['x' * 1000000] * 100", "would be more than 10.0 MB"),
    ("raise_shared_value", "exec", SHARED + "raise ValueError(a)", "nested more than 32 levels"),
    ("key_error_of_big_key", "exec", "d = {}\nx = d[('x' * 1000000,) * 20]", "KeyError the script raised would be"),
]

SMALL_DICTS = {"max_sequence_length": 100_000}
LIMITS: dict[str, dict[str, int]] = {"unpack_dict": SMALL_DICTS, "unpack_call_keywords": SMALL_DICTS,
                                     "dict_union_in_place": SMALL_DICTS}

MEMORY_BOMBS: list[tuple[str, str]] = [
    ("append_in_loop", "a = []\nwhile True:\n    a.append('x' * 100000)"),
    ("comprehension_of_big_items", "a = ['x' * 100000 for _ in range(10**6)]"),
    ("copies_in_comprehension", "a = [0] * 100000\nb = [a.copy() for _ in range(10**6)]"),
    ("dict_filled_in_loop", "a = {}\ni = 0\nwhile True:\n    a[i] = str(i) * 1000\n    i += 1"),
    ("zip_of_many_lists", "b = list(zip(*[list(range(100000)) for _ in range(400)]))"),
]
