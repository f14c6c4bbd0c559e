/*
 * fuzz_template.c - libFuzzer target for the chat template engine: the input
 * is template source; it is parsed and, when it parses, rendered with a small
 * fixed chat context (messages with a tool call and a tool result, tools,
 * options) under small limits so that each run stays fast. Checks: no crash,
 * no leak, errors carry a message, output is valid UTF-8 and within the cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template/template.h"

static json_t *ctx;

static const char *const context_json =
    "{\"messages\": ["
    "{\"role\": \"system\", \"content\": \"You are helpful.\"},"
    "{\"role\": \"user\", \"content\": \"H\\u00e9llo \\\"w\\\" 'x' \\u4f60\\ud83c\\udf89\\n\\tend \"},"
    "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"call12345\", \"type\": \"function\","
    "  \"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Z\\u00fcrich\", \"days\": 2}}}]},"
    "{\"role\": \"tool\", \"tool_call_id\": \"call12345\", \"content\": \"{\\\"temp\\\": 21}\"},"
    "{\"role\": \"assistant\", \"content\": \"<think>r</think>It is 21.\", \"reasoning_content\": \"r\"},"
    "{\"role\": \"user\", \"content\": \"\"}],"
    "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather\","
    "  \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"},"
    "  \"days\": {\"type\": \"integer\", \"default\": 0}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
    "  \"u\": {\"type\": [\"string\", \"null\"]}}, \"required\": [\"city\"]}}}],"
    "\"documents\": null, \"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\","
    "\"enable_thinking\": false, \"n\": 3, \"f\": 2.5, \"lst\": [3, 1, 2], \"d\": {\"b\": 2, \"a\": 1},"
    "\"nested\": {\"a\": {\"b\": [10, {\"c\": \"deep\"}]}}}";

static bool utf8_ok(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n) return false;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80) return false;
        i += k;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) {
        json_error_t je;
        ctx = json_loads(context_json, 0, &je);
        if (!ctx) __builtin_trap();
    }
    if (size > 1 << 16) return 0;
    rf_template *t = NULL;
    rf_err err = {0};
    rf_status st = rf__template_parse((const char *)data, size, &t, &err);
    if (st != RF_OK) {
        if (t || !err.msg[0]) __builtin_trap();
        return 0;
    }
    rf_template_opts o;
    rf__template_opts_default(&o);
    o.max_steps = 20000;
    o.max_output = 1 << 16;
    o.max_memory = 8u << 20;
    o.max_depth = 16;
    o.max_seconds = 5;
    o.fixed_time = true;
    o.now = 1735787045;
    char *out = NULL;
    size_t len = 0;
    st = rf__template_render(t, ctx, &o, &out, &len, &err);
    if (st == RF_OK) {
        if (!out || len > o.max_output || out[len] != '\0' || !utf8_ok((const unsigned char *)out, len)) __builtin_trap();
    } else if (out || !err.msg[0] || (st != RF_ERR_TEMPLATE && st != RF_ERR_BUDGET)) {
        __builtin_trap();
    }
    rf__free(out);
    rf__template_free(t);
    return 0;
}
