/* placeholder: not yet written */
typedef int hpo_placeholder_t;
