// The guest of the `component` example: a small inventory written in C.
//
// wit-bindgen generated `gen/inventory.h` from inventory.wit: every `export` of the world is a
// function we define here (`exports_example_inventory_store_*`), every `import` is a function we
// may call (`example_inventory_host_log`), and WIT types became C structs. build.sh turns this
// file into the component `inventory.wasm` that the Rust example embeds.
#include "gen/inventory.h"
#include <stdlib.h>
#include <string.h>

typedef exports_example_inventory_store_item_t item_t;

#define MAX_ITEMS 64
static item_t items[MAX_ITEMS];
static size_t item_count = 0;

static void host_log(example_inventory_host_level_t level, const char *text) {
  inventory_string_t msg = {(uint8_t *)text, strlen(text)};
  example_inventory_host_log(level, &msg);
}

static bool same_name(const inventory_string_t *a, const inventory_string_t *b) {
  return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

static void copy_item(item_t *dst, const item_t *src) {
  *dst = *src;
  inventory_string_dup_n(&dst->name, (const char *)src->name.ptr, src->name.len);
}

// Takes ownership of `item` (its name was allocated by the canonical ABI's realloc).
bool exports_example_inventory_store_add(item_t *item, uint32_t *ret, inventory_string_t *err) {
  if (item->name.len == 0) {
    inventory_string_dup(err, "an item needs a name");
    exports_example_inventory_store_item_free(item);
    return false;
  }
  for (size_t i = 0; i < item_count; i++) {
    if (same_name(&items[i].name, &item->name)) {
      exports_example_inventory_store_item_free(&items[i]);
      items[i] = *item;
      host_log(EXAMPLE_INVENTORY_HOST_LEVEL_INFO, "replaced an item");
      *ret = (uint32_t)item_count;
      return true;
    }
  }
  if (item_count == MAX_ITEMS) {
    inventory_string_dup(err, "the inventory is full");
    exports_example_inventory_store_item_free(item);
    return false;
  }
  items[item_count++] = *item;
  *ret = (uint32_t)item_count;
  return true;
}

bool exports_example_inventory_store_take(inventory_string_t *name, uint32_t quantity,
                                          item_t *ret) {
  for (size_t i = 0; i < item_count; i++) {
    if (same_name(&items[i].name, name)) {
      if (items[i].quantity < quantity) {
        host_log(EXAMPLE_INVENTORY_HOST_LEVEL_WARN, "not enough units: took what was left");
        items[i].quantity = 0;
      } else {
        items[i].quantity -= quantity;
      }
      copy_item(ret, &items[i]);
      inventory_string_free(name);
      return true;
    }
  }
  inventory_string_free(name);
  return false;
}

void exports_example_inventory_store_summarize(uint32_t threshold,
                                               exports_example_inventory_store_summary_t *ret) {
  ret->distinct_items = (uint32_t)item_count;
  ret->total_value_cents = 0;
  size_t low = 0;
  for (size_t i = 0; i < item_count; i++) {
    ret->total_value_cents += (uint64_t)items[i].quantity * items[i].price_cents;
    if (items[i].quantity < threshold) low++;
  }
  ret->low_stock.ptr = malloc((low ? low : 1) * sizeof(inventory_string_t));
  ret->low_stock.len = low;
  size_t k = 0;
  for (size_t i = 0; i < item_count; i++) {
    if (items[i].quantity < threshold) {
      inventory_string_dup_n(&ret->low_stock.ptr[k++], (const char *)items[i].name.ptr,
                             items[i].name.len);
    }
  }
}
