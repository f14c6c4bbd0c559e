/* registry.c - the table of supported architectures: name -> rf_arch.
 * A new architecture adds its file and one line here. */
#include <string.h>

#include "models/models.h"

extern const rf_arch rf__arch_llama;
extern const rf_arch rf__arch_qwen2;
extern const rf_arch rf__arch_qwen3;
extern const rf_arch rf__arch_qwen3moe;
extern const rf_arch rf__arch_gemma2;
extern const rf_arch rf__arch_gemma3;
extern const rf_arch rf__arch_phi3;
extern const rf_arch rf__arch_gemma;
extern const rf_arch rf__arch_granite;
extern const rf_arch rf__arch_olmo2;
extern const rf_arch rf__arch_smollm3;
extern const rf_arch rf__arch_gpt_oss;
extern const rf_arch rf__arch_command_r;
extern const rf_arch rf__arch_cohere2;
extern const rf_arch rf__arch_qwen2moe;
extern const rf_arch rf__arch_mistral3;
extern const rf_arch rf__arch_glm4moe;
extern const rf_arch rf__arch_exaone4;

static const rf_arch *const archs[] = {
    &rf__arch_llama,
    &rf__arch_qwen2,
    &rf__arch_qwen3,
    &rf__arch_qwen3moe,
    &rf__arch_gemma2,
    &rf__arch_gemma3,
    &rf__arch_phi3,
    &rf__arch_gemma,
    &rf__arch_granite,
    &rf__arch_olmo2,
    &rf__arch_smollm3,
    &rf__arch_gpt_oss,
    &rf__arch_command_r,
    &rf__arch_cohere2,
    &rf__arch_qwen2moe,
    &rf__arch_mistral3,
    &rf__arch_glm4moe,
    &rf__arch_exaone4,
};

const rf_arch *rf__arch_find(const char *name) {
    for (size_t i = 0; i < RF_ARRAY_LEN(archs); i++)
        if (strcmp(archs[i]->name, name) == 0) return archs[i];
    return NULL;
}

void rf__arch_list(char *buf, size_t size) {
    size_t used = 0;
    if (!size) return;
    buf[0] = '\0';
    for (size_t i = 0; i < RF_ARRAY_LEN(archs); i++) {
        size_t n = strlen(archs[i]->name);
        if (used + n + 3 > size) break;
        if (used) {
            memcpy(buf + used, ", ", 2);
            used += 2;
        }
        memcpy(buf + used, archs[i]->name, n);
        used += n;
        buf[used] = '\0';
    }
}
