/* The roadmap parser: the example roadmap (the seed's text) yields exactly its 8 done, 6 next and
 * 14 upcoming checklist entries and 7 tasks with their people and hours; the same roadmap with
 * real lists instead of a fence yields the same issues; each accepted shape is recognised and
 * everything else is kept as context; malformed input (unterminated fences and lists, huge
 * lines, binary bytes, NUL bytes, invalid UTF-8) never crashes. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "kanban/kanban.h"

static pg_kanban_roadmap *
parse_text(const char *text, size_t len)
{
    pg_kanban_roadmap *r = NULL;
    pg_error err = {0};
    int rc = pg_kanban_parse(&r, text, len, "test.md", &err);
    if (rc != PG_OK) {
        char buf[1400];
        print_error("parse failed: %s\n", pg_error_format(&err, buf, sizeof buf));
        fail();
    }
    assert_non_null(r);
    return r;
}

static pg_kanban_roadmap *
parse_str(const char *text)
{
    return parse_text(text, strlen(text));
}

static pg_kanban_roadmap *
parse_example(void)
{
    pg_kanban_roadmap *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_kanban_read(&r, pgt_source_path("examples/roadmap.md"), &err), PG_OK);
    return r;
}

static size_t
count_label(const pg_kanban_roadmap *r, const char *label)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_items; i++)
        if (r->items[i].kind == PG_KANBAN_CHECKLIST && r->items[i].n_labels == 1 &&
            strcmp(r->items[i].labels[0], label) == 0)
            n++;
    return n;
}

/* Counts lines that start with prefix, straight from the file, as an independent tally. */
static size_t
count_lines(const char *text, const char *prefix)
{
    size_t n = 0, pl = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        n += strncmp(l, prefix, pl) == 0;
    return n;
}

static const pg_kanban_item *
find(const pg_kanban_roadmap *r, const char *title)
{
    for (size_t i = 0; i < r->n_items; i++)
        if (strcmp(r->items[i].title, title) == 0)
            return &r->items[i];
    print_error("no item titled '%s'\n", title);
    fail();
    return NULL;
}

static void
assert_payload(const pg_kanban_item *it, const char *expected)
{
    char *json = NULL;
    pg_error err = {0};
    assert_int_equal(pg_kanban_item_payload(it, &json, &err), PG_OK);
    assert_string_equal(json, expected);
    free(json);
}

static void
test_example_counts(void **state)
{
    (void)state;
    pg_kanban_roadmap *r = parse_example();
    char *text = pgt_slurp(pgt_source_path("examples/roadmap.md"), NULL);
    /* The numbers, and the same numbers tallied from the raw lines. */
    assert_int_equal(count_label(r, "done"), 8);
    assert_int_equal(count_label(r, "next"), 6);
    assert_int_equal(count_label(r, "upcoming"), 14);
    assert_int_equal(count_lines(text, "- [x] "), 8);
    assert_int_equal(count_lines(text, "- [ ] "), 20);
    assert_int_equal(count_lines(text, "Task "), 7);
    size_t tasks = 0;
    for (size_t i = 0; i < r->n_items; i++)
        tasks += r->items[i].kind == PG_KANBAN_TASK;
    assert_int_equal(tasks, 7);
    assert_int_equal(r->n_items, 8 + 6 + 14 + 7);

    /* Done entries are ticked and closed; the others open. */
    for (size_t i = 0; i < r->n_items; i++) {
        const pg_kanban_item *it = &r->items[i];
        if (it->kind != PG_KANBAN_CHECKLIST)
            continue;
        int done = strcmp(it->labels[0], "done") == 0;
        assert_int_equal(it->checked, done);
        assert_int_equal(it->closed, done);
        assert_string_equal(it->body, "");
    }

    static const struct {
        int number, people;
        double hours;
        int line;
        const char *title;
    } want[] = {
        {1, 2, 20, 40, "Develop investor-focused presentation"},
        {2, 6, 180, 46, "Prototype development"},
        {3, 2, 16, 53, "Promote Plurigrid through bounty campaigns"},
        {4, 3, 40, 58, "Engage with worlding game studio in Prague"},
        {5, 2, 20, 63, "Work closely with the ZK alliance of advisors"},
        {6, 1, 20, 68, "Manage contractors, interns, and other resources"},
        {7, 1, 8, 73, "Maintain strong relationships with the crypto fund accelerator"},
    };
    for (size_t k = 0; k < 7; k++) {
        const pg_kanban_item *it = &r->items[28 + k];
        assert_int_equal(it->kind, PG_KANBAN_TASK);
        assert_int_equal(it->number, want[k].number);
        assert_int_equal(it->people, want[k].people);
        assert_near(it->hours, want[k].hours, 0);
        assert_int_equal(it->line, want[k].line);
        assert_string_equal(it->title, want[k].title);
        assert_false(it->closed);
        assert_string_equal(it->section, "Week of April 3rd - April 9th Roadmap");
    }
    free(text);
    pg_kanban_free(r);
}

static void
test_example_titles_and_bodies(void **state)
{
    (void)state;
    pg_kanban_roadmap *r = parse_example();
    assert_string_equal(r->items[0].title, "Release Laura v0 Alpha");
    assert_int_equal(r->items[0].line, 4);
    assert_string_equal(r->items[0].section, "Done");
    assert_string_equal(r->items[7].title, "Review goals for realism and achievability");
    assert_string_equal(r->items[11].title, "Organize a meeting with the slide artisan Pim");
    assert_string_equal(r->items[11].labels[0], "next");
    assert_int_equal(r->items[11].line, 17);
    assert_string_equal(r->items[27].title,
                        "Promote the adoption of conversational agents internally, leveraging "
                        "low-cost and edge-operated capability");
    assert_string_equal(r->items[27].section, "Upcoming");

    const pg_kanban_item *t1 = find(r, "Develop investor-focused presentation");
    assert_string_equal(t1->body, "- Create a visually appealing and comprehensive slide deck\n"
                                  "- Align the presentation with the needs and interests of "
                                  "investors\n"
                                  "- Collaborate with slide artisan Pim\n"
                                  "- Rehearse the presentation, refine, and finalize");
    const pg_kanban_item *t2 = find(r, "Prototype development");
    assert_string_equal(t2->body,
                        "- Design the user interface for the app (mobile/desktop)\n"
                        "- Implement the backend infrastructure and functionality\n"
                        "- Integrate multilingual support\n"
                        "- Perform testing and iterate based on feedback\n"
                        "- Involve the broader ecosystem of developers for support, bug fixes, "
                        "and improvements");
    assert_int_equal(t2->n_labels, 3);
    assert_string_equal(t2->labels[0], "task");
    assert_string_equal(t2->labels[1], "estimate:180h");
    assert_string_equal(t2->labels[2], "people:6");

    assert_payload(&r->items[0], "{\"title\":\"Release Laura v0 Alpha\",\"body\":\"Roadmap "
                                 "section: Done\",\"labels\":[\"done\"],\"state\":\"closed\","
                                 "\"state_reason\":\"completed\"}");
    assert_payload(&r->items[8],
                   "{\"title\":\"Prioritize tasks based on available resources, potential "
                   "impact, and dependencies\",\"body\":\"Roadmap section: Next\",\"labels\":"
                   "[\"next\"],\"state\":\"open\"}");
    assert_payload(find(r, "Maintain strong relationships with the crypto fund accelerator"),
                   "{\"title\":\"Maintain strong relationships with the crypto fund "
                   "accelerator\",\"body\":\"- Regularly report progress and milestones\\n- "
                   "Request resources and support when needed\\n- Build and maintain a healthy "
                   "relationship for the benefit of the project\\n\\nEstimate: 1 person, 8 "
                   "hours\\nRoadmap section: Week of April 3rd - April 9th Roadmap\",\"labels\":"
                   "[\"task\",\"estimate:8h\",\"people:1\"],\"state\":\"open\"}");

    /* What is not an item is kept: the heading, the three list names, the week's name. */
    assert_int_equal(r->n_context, 5);
    static const struct {
        int line;
        const char *text;
    } ctx[] = {{1, "# nexus"},
               {3, "Done:"},
               {13, "Next:"},
               {21, "Upcoming:"},
               {38, "Week of April 3rd - April 9th Roadmap:"}};
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(r->context[k].line, ctx[k].line);
        assert_string_equal(r->context[k].text, ctx[k].text);
    }
    pg_error err = {0};
    assert_int_equal(pg_kanban_check(r, &err), PG_OK);
    pg_kanban_free(r);
}

/* The checklists as real lists instead of inside a fence give the very same issues. */
static void
test_fence_or_real_lists(void **state)
{
    (void)state;
    size_t len;
    char *text = pgt_slurp(pgt_source_path("examples/roadmap.md"), &len);
    char *plain = malloc(len + 1);
    assert_non_null(plain);
    size_t o = 0;
    for (const char *l = text; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) + 1 : strlen(l);
        if (strncmp(l, "```\n", 4) != 0) {
            memcpy(plain + o, l, n);
            o += n;
        }
        l += n;
    }
    plain[o] = '\0';
    assert_int_equal(o, len - 8); /* two fence lines gone */
    pg_kanban_roadmap *a = parse_text(text, len), *b = parse_text(plain, o);
    char *ja = NULL, *jb = NULL;
    pg_error err = {0};
    assert_int_equal(pg_kanban_payloads_json(a, false, &ja, &err), PG_OK);
    assert_int_equal(pg_kanban_payloads_json(b, false, &jb, &err), PG_OK);
    assert_string_equal(ja, jb);
    assert_int_equal(b->n_items, 35);
    assert_int_equal(b->n_context, 5);
    free(ja);
    free(jb);
    free(text);
    free(plain);
    pg_kanban_free(a);
    pg_kanban_free(b);
}

static void
test_shapes(void **state)
{
    (void)state;
    pg_kanban_roadmap *r = parse_str("# Plan\n"
                                     "\n"
                                     "## Next up\n"
                                     "- [ ] Write the parser\n"
                                     "  that wraps\n"
                                     "\n"
                                     "  More words about it.\n"
                                     "  - a sub point\n"
                                     "- plain bullet, no box\n"
                                     "* [X] Ship it\n"
                                     "\n"
                                     "### Done\n"
                                     "1. [ ] Forgot to tick\n"
                                     "\n"
                                     "## Task 3: Heading task (1 person, 2.5 hours)\n"
                                     "First step\n"
                                     "\n"
                                     "- listed step\n"
                                     "- [ ] boxed step\n"
                                     "Task 4: No estimate\n"
                                     "Task x: not a task\n"
                                     "Task 5: Odd estimate (lots of people)\n"
                                     "\n"
                                     "---\n"
                                     "[ref]: https://example.org\n"
                                     "```julia\n"
                                     "- [ ] code, not an item\n"
                                     "```\n");
    assert_int_equal(r->n_items, 6);
    const pg_kanban_item *it = &r->items[0];
    assert_string_equal(it->title, "Write the parser that wraps");
    assert_string_equal(it->body, "More words about it.\n- a sub point");
    assert_string_equal(it->section, "Next up");
    assert_string_equal(it->labels[0], "next-up");
    assert_false(it->closed);
    it = &r->items[1];
    assert_string_equal(it->title, "Ship it");
    assert_true(it->checked);
    assert_true(it->closed);
    it = &r->items[2];
    assert_string_equal(it->title, "Forgot to tick");
    assert_false(it->checked);
    assert_true(it->closed); /* under Done */
    it = &r->items[3];
    assert_int_equal(it->kind, PG_KANBAN_TASK);
    assert_string_equal(it->title, "Heading task");
    assert_int_equal(it->people, 1);
    assert_near(it->hours, 2.5, 1e-12);
    assert_string_equal(it->labels[1], "estimate:2.5h");
    /* A task's steps end at the next task: "Task x" is not one, so it is a step of task 4. */
    assert_string_equal(it->body, "- First step\n- listed step\n- [ ] boxed step");
    it = &r->items[4];
    assert_string_equal(it->title, "No estimate");
    assert_int_equal(it->n_labels, 1);
    assert_true(it->hours < 0);
    assert_string_equal(it->body, "- Task x: not a task");
    it = &r->items[5];
    assert_string_equal(it->title, "Odd estimate (lots of people)");
    assert_int_equal(it->people, 0);
    /* Context: the headings, the plain bullet, the rule, the reference, the julia fence. */
    const char *want[] = {"# Plan",
                          "## Next up",
                          "- plain bullet, no box",
                          "### Done",
                          "---",
                          "[ref]: https://example.org",
                          "```julia\n- [ ] code, not an item\n```"};
    assert_int_equal(r->n_context, 7);
    for (size_t k = 0; k < 7; k++)
        assert_string_equal(r->context[k].text, want[k]);
    pg_kanban_free(r);
}

/* "Done:" right before a checklist ends the task above it; otherwise it is a step. */
static void
test_lead_in_ends_task(void **state)
{
    (void)state;
    pg_kanban_roadmap *r = parse_str("Task 1: A (2 people, 3 hours)\n"
                                     "step one\n"
                                     "Steps:\n"
                                     "\n"
                                     "- plain\n"
                                     "\n"
                                     "Done:\n"
                                     "- [x] B\n");
    assert_int_equal(r->n_items, 2);
    assert_string_equal(r->items[0].body, "- step one\n- Steps:\n- plain");
    assert_string_equal(r->items[1].title, "B");
    assert_string_equal(r->items[1].section, "Done");
    assert_int_equal(r->n_context, 1);
    assert_string_equal(r->context[0].text, "Done:");
    assert_int_equal(r->context[0].line, 7);
    pg_kanban_free(r);
}

static void
test_duplicates_and_limits(void **state)
{
    (void)state;
    pg_kanban_roadmap *r = parse_str("Next:\n- [ ] Same\n- [ ] Other\n- [ ] Same\n");
    pg_error err = {0};
    assert_int_equal(pg_kanban_check(r, &err), PG_EPARSE);
    assert_int_equal(err.line, 4);
    assert_non_null(strstr(err.msg, "line 2"));
    pg_kanban_free(r);

    size_t n = 300000;
    char *big = malloc(n + 16);
    assert_non_null(big);
    memcpy(big, "- [ ] ", 6);
    memset(big + 6, 'a', n);
    big[n + 6] = '\0';
    r = parse_str(big);
    assert_int_equal(r->n_items, 1);
    assert_int_equal(strlen(r->items[0].title), n);
    pg_error_clear(&err);
    assert_int_equal(pg_kanban_check(r, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "256"));
    pg_kanban_free(r);
    free(big);

    r = NULL;
    pg_error_clear(&err);
    assert_int_equal(pg_kanban_parse(&r, "", PG_KANBAN_MAX_INPUT + 1u, "huge.md", &err), PG_ELIMIT);
    assert_null(r);
    assert_string_equal(err.file, "huge.md");

    /* A file too big to be a roadmap is refused by its size. */
    char path[4200];
    snprintf(path, sizeof path, "%s/big.md", pgt_tmpdir());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t k = 0; k <= PG_KANBAN_MAX_INPUT / 8; k++)
        fputs("- [ ] x\n", f);
    fclose(f);
    pg_error_clear(&err);
    assert_int_equal(pg_kanban_read(&r, path, &err), PG_ELIMIT);
    assert_null(r);
    assert_string_equal(err.file, path);
    assert_non_null(strstr(err.msg, "more than the 1048576 bytes (1 MiB)"));
    pgt_tmpdir_cleanup();

    /* A section name is cut to 200 characters (each item carries a copy), its label to 50. */
    size_t sn = 5000;
    char *sec = malloc(sn + 64);
    assert_non_null(sec);
    memcpy(sec, "# ", 2);
    for (size_t k = 0; k < sn; k++)
        sec[2 + k] = (char)('a' + k % 26);
    strcpy(sec + 2 + sn, "\n- [ ] one\n- [ ] two\n");
    r = parse_str(sec);
    assert_int_equal(r->n_items, 2);
    assert_int_equal(strlen(r->items[1].section), 200);
    assert_int_equal(strncmp(r->items[1].section, "abcdefghijklmnopqrstuvwxyzabcd", 30), 0);
    assert_int_equal(strlen(r->items[1].labels[0]), 50);
    assert_int_equal(r->n_context, 1);
    assert_int_equal(strlen(r->context[0].text), sn + 2); /* the heading itself is kept whole */
    pg_kanban_free(r);
    free(sec);
}

/* Bytes that are not text: NUL and invalid UTF-8 become U+FFFD, so payloads stay valid JSON. */
static void
test_bytes(void **state)
{
    (void)state;
    static const char text[] = "Done:\n- [x] a\0b \xff\xfe c \xe2\x82\n";
    pg_kanban_roadmap *r = parse_text(text, sizeof text - 1);
    assert_int_equal(r->n_items, 1);
    assert_string_equal(r->items[0].title, "a\xEF\xBF\xBD"
                                           "b \xEF\xBF\xBD\xEF\xBF\xBD c \xEF\xBF\xBD\xEF\xBF\xBD");
    char *json = NULL;
    pg_error err = {0};
    assert_int_equal(pg_kanban_payloads_json(r, true, &json, &err), PG_OK);
    free(json);
    pg_kanban_free(r);

    /* Old Mac line endings and a byte order mark. */
    r = parse_str("\xEF\xBB\xBFNext:\r- [ ] one\r- [ ] two\r\rTask 1: t (1 person, 1 hour)\rs\r");
    assert_int_equal(r->n_items, 3);
    assert_string_equal(r->items[1].title, "two");
    assert_int_equal(r->items[1].line, 3);
    assert_string_equal(r->items[2].body, "- s");
    pg_kanban_free(r);
}

static void
test_malformed_never_crashes(void **state)
{
    (void)state;
    const char *cases[] = {
        "",
        "\n\n   \n",
        "```\nDone:\n- [x] inside an unterminated fence\n",
        "- [ ] unterminated list\n  - [ ] nested\n    - [",
        "- [",
        "- [x]",
        "- [ ]\n",
        "Task 1:",
        "Task 1: (1 person, 1 hour)",
        "Task 99999999999999: big number (1 person, 1 hour)",
        "Task 1: x (99999999 people, 1e9 hours)",
        "> - [ ] quoted\n> Task 1: quoted (1 person, 1 hour)\n",
        "<div>\n- [ ] html\n</div>\n",
        "````\n```\n~~~\nDone:\n- [x] deep\n~~~\n```\n````\n",
        "Setext\n===\n- [ ] a\nTask 2: b\nSection\n---\n- [ ] c\n",
        "    - [ ] indented code\n",
        "Task 1: a (1 person, 1 hour)\n```\ncode in a task\n```\n> quote\n<p>x</p>\n",
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        pg_kanban_roadmap *r = parse_str(cases[k]);
        char *json = NULL;
        pg_error err = {0};
        assert_int_equal(pg_kanban_roadmap_json(r, NULL, &json, &err), PG_OK);
        free(json);
        pg_kanban_free(r);
    }
    /* The fence that is never closed still holds its checklist. */
    pg_kanban_roadmap *r = parse_str(cases[2]);
    assert_int_equal(r->n_items, 1);
    assert_string_equal(r->items[0].title, "inside an unterminated fence");
    pg_kanban_free(r);

    /* Fences nested deeper than the parser follows stay context, without a crash. */
    size_t depth = 40, n = 0;
    char *deep = malloc(depth * 2 * (depth + 4) + 64);
    assert_non_null(deep);
    for (size_t d = 0; d < depth; d++) {
        memset(deep + n, '`', depth + 3 - d);
        n += depth + 3 - d;
        deep[n++] = '\n';
    }
    n += (size_t)sprintf(deep + n, "Done:\n- [x] bottom\n");
    for (size_t d = depth; d-- > 0;) {
        memset(deep + n, '`', depth + 3 - d);
        n += depth + 3 - d;
        deep[n++] = '\n';
    }
    deep[n] = '\0';
    r = parse_str(deep);
    assert_int_equal(r->n_items, 0);
    assert_true(r->n_context >= 1);
    pg_kanban_free(r);
    free(deep);

    /* A huge line (as long as the roadmap may be), and pseudo-random binary input. */
    size_t big = PG_KANBAN_MAX_INPUT;
    char *buf = malloc(big);
    assert_non_null(buf);
    memset(buf, 'x', big);
    r = parse_text(buf, big);
    assert_int_equal(r->n_items, 0);
    assert_int_equal(r->n_context, 1);
    pg_kanban_free(r);
    unsigned long long s = 88172645463325252ull;
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < 65536; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (char)(round % 2 ? "- [x]\n`#T ask1:(2people,3hours)\0\xff"[s % 33]
                                      : (char)(s >> 24));
        }
        r = parse_text(buf, 65536);
        char *json = NULL;
        pg_error err = {0};
        assert_int_equal(pg_kanban_roadmap_json(r, NULL, &json, &err), PG_OK);
        free(json);
        pg_kanban_free(r);
    }
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_counts),
        cmocka_unit_test(test_example_titles_and_bodies),
        cmocka_unit_test(test_fence_or_real_lists),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_lead_in_ends_task),
        cmocka_unit_test(test_duplicates_and_limits),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_malformed_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
