#pragma once
/// JSON ⇄ program in the `wrapgraph/1` format (spec/program-format.md): load,
/// with errors that name the JSON path, and save in canonical form. Lines are
/// read and written once, generically, over their Boost.Hana reflection, so a
/// new line kind needs no code here.
///
/// Loading throws wrapgraph::program_error. Its id is one of:
///   wrapgraph.json.parse_error    the text is not JSON
///   wrapgraph.json.io             a file cannot be read or written
///   wrapgraph.json.bad_format     "format" is not "wrapgraph/1"
///   wrapgraph.json.missing_field  a required field is absent
///   wrapgraph.json.unknown_key    a key the format does not define (outside "meta")
///   wrapgraph.json.wrong_type     a value of the wrong JSON type
///   wrapgraph.json.unknown_op     a line whose "op" is no line kind
///   wrapgraph.json.unknown_dtype  a dtype the format does not name
///   wrapgraph.json.unknown_device a device other than "cpu", "cuda", "cuda:N"
///   wrapgraph.json.duplicate_name a key given twice in one object (two symbols,
///                                 subgraphs, kwargs, ... of one name)
///   wrapgraph.json.bad_value      a value of the right type that the data
///                                 model cannot hold (result_kind, key path
///                                 method, an integer beyond int64, ...)
/// or, for an expression that does not parse or build, the parser's id
/// (wrapgraph.sym.parse.*, wrapgraph.sym.division_by_zero, ...) and, for a
/// symbol declared twice with other assumptions, wrapgraph.sym.symbol_redeclared.
/// The message reads "at lines[7].buffer.size[1]: expected ..., got ...".
/// Loading checks form, not meaning: names defined before use, grid ranks,
/// reductions, ranks of sizes and strides are the converter's to check, as
/// for programs built in C++.
///
/// Expressions are parsed into the program's context. Symbols declared in
/// "symbols" (of the program or of any subgraph) get assumptions_of(decl)
/// and are declared before anything is parsed; every other name (symbolic
/// call arguments, kernel parameters in grids, symbols defined by lines)
/// becomes a symbol with sym::any_integer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <wrapgraph/detail/reflect.hpp>
#include <wrapgraph/error.hpp>
#include <wrapgraph/lines/lines.hpp>
#include <wrapgraph/lines/program.hpp>
#include <wrapgraph/lines/types.hpp>
#include <wrapgraph/sym/context.hpp>
#include <wrapgraph/sym/expr.hpp>
#include <wrapgraph/sym/parse.hpp>
#include <wrapgraph/sym/print.hpp>

namespace wrapgraph::io {

/// The value of the top-level "format" key.
inline constexpr std::string_view format_version = "wrapgraph/1";

namespace detail {

using ojson = nlohmann::ordered_json;

// ---- paths -------------------------------------------------------------------

// Appends one step of a JSON path: ".key" (or "key" first), ["odd key"], [i].
inline void append_key(std::string& out, std::string_view key) {
  bool identifier = !key.empty() && !(key.front() >= '0' && key.front() <= '9');
  for (char c : key)
    identifier = identifier && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                c == '_');
  if (identifier) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += '[' + ojson(std::string(key)).dump() + ']';
  }
}
inline void append_index(std::string& out, std::size_t index) { out += '[' + std::to_string(index) + ']'; }

// Where a value sits in the document; built on the stack as reading descends
// and turned into text only for an error.
struct json_path {
  const json_path* parent = nullptr;
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;

  [[nodiscard]] json_path operator/(std::string_view k) const { return {this, k, 0, false}; }
  [[nodiscard]] json_path operator[](std::size_t i) const { return {this, {}, i, true}; }

  void append_to(std::string& out) const {
    if (parent == nullptr) return;
    parent->append_to(out);
    if (is_index)
      append_index(out, index);
    else
      append_key(out, key);
  }
  [[nodiscard]] std::string str() const {
    std::string out;
    append_to(out);
    return out;
  }
};

[[nodiscard]] inline std::string where(std::string_view path) {
  return path.empty() ? std::string("at the top level") : "at " + std::string(path);
}

[[noreturn]] inline void fail(const char* id, const json_path& at, const std::string& what) {
  throw program_error(id, where(at.str()) + ": " + what);
}

// A short description of a JSON value for "got ..." in messages.
[[nodiscard]] inline std::string describe(const ojson& j) {
  switch (j.type()) {
    case ojson::value_t::object:
      return "an object";
    case ojson::value_t::array:
      return "a list";
    case ojson::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      return "the string " + (s.size() <= 60 ? ojson(s).dump() : ojson(s.substr(0, 57)).dump() + "...");
    }
    case ojson::value_t::boolean:
      return j.get<bool>() ? "true" : "false";
    case ojson::value_t::null:
      return "null";
    case ojson::value_t::number_float:
      return "the number " + j.dump();
    default:
      return "the integer " + j.dump();
  }
}

[[noreturn]] inline void wrong_type(const ojson& j, const json_path& at, std::string_view expected) {
  fail("wrapgraph.json.wrong_type", at, "expected " + std::string(expected) + ", got " + describe(j));
}

inline void expect_object(const ojson& j, const json_path& at, std::string_view expected = "an object") {
  if (!j.is_object()) wrong_type(j, at, expected);
}
inline void expect_array(const ojson& j, const json_path& at, std::string_view expected = "a list") {
  if (!j.is_array()) wrong_type(j, at, expected);
}

// The value of key `key` in object `obj`, or null when absent.
[[nodiscard]] inline const ojson* field(const ojson& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// "a, b, c" of the names other than meta.
[[nodiscard]] inline std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (n == "meta") continue;
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Every key of `obj` is one of `allowed`, `tag` or "meta".
inline void check_keys(const ojson& obj, const json_path& at, std::span<const std::string_view> allowed,
                       std::string_view tag = {}) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    if (key == "meta" || (!tag.empty() && key == tag)) continue;
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string expected = join(allowed);
      if (!tag.empty()) expected = std::string(tag) + (expected.empty() ? "" : ", ") + expected;
      fail("wrapgraph.json.unknown_key", at,
           "unknown key " + ojson(key).dump() + " (expected " + (expected.empty() ? "none" : expected) +
               (expected.empty() ? "" : " or meta") + ")");
    }
  }
}

// ---- reading -----------------------------------------------------------------

struct reader {
  sym::context& ctx;
};

using wrapgraph::detail::for_each_field;
using wrapgraph::detail::is_optional_v;
using wrapgraph::detail::reflected;

// The format names of T's members, in order.
template <reflected T>
[[nodiscard]] constexpr auto field_names() {
  auto names = wrapgraph::detail::member_names<T>();
  for (std::string_view& n : names) n = json_name<T>(n);
  return names;
}

void read(const ojson& j, std::string& out, const json_path& at, reader& r);
void read(const ojson& j, bool& out, const json_path& at, reader& r);
void read(const ojson& j, std::int64_t& out, const json_path& at, reader& r);
void read(const ojson& j, sym::expr& out, const json_path& at, reader& r);
void read(const ojson& j, meta_data& out, const json_path& at, reader& r);
void read(const ojson& j, dtype& out, const json_path& at, reader& r);
void read(const ojson& j, device& out, const json_path& at, reader& r);
void read(const ojson& j, tensor_layout& out, const json_path& at, reader& r);
void read(const ojson& j, buffer_decl& out, const json_path& at, reader& r);
void read(const ojson& j, ref& out, const json_path& at, reader& r);
void read(const ojson& j, key_step& out, const json_path& at, reader& r);
void read(const ojson& j, kernel_value& out, const json_path& at, reader& r);
void read(const ojson& j, extern_result_kind& out, const json_path& at, reader& r);
void read(const ojson& j, cubin_implementation& out, const json_path& at, reader& r);
void read(const ojson& j, symbol_decl& out, const json_path& at, reader& r);
void read(const ojson& j, line& out, const json_path& at, reader& r);
template <class T>
void read(const ojson& j, std::vector<T>& out, const json_path& at, reader& r);
template <class V>
void read(const ojson& j, std::vector<std::pair<std::string, V>>& out, const json_path& at, reader& r);
template <class T>
void read(const ojson& j, std::optional<T>& out, const json_path& at, reader& r);
template <reflected T>
void read(const ojson& j, T& out, const json_path& at, reader& r);

// Checks of values beyond their JSON type, where the data model cannot hold
// the value faithfully; none by default. What a value means (grid rank,
// reductions, key paths, ranks of sizes and strides, names) is checked by the
// converter, so that programs built in C++ get the same checks.
template <class T>
void check_value(const T&, const json_path&) {}

inline void check_value(const extra_param& p, const json_path& at) {
  if (p.scratch_bytes < 0)
    fail("wrapgraph.json.bad_value", at / "scratch_bytes",
         "scratch_bytes must be at least 0, got " + std::to_string(p.scratch_bytes));
}
inline void check_value(const cubin_binary& b, const json_path& at) {
  if (b.shared_bytes < 0)
    fail("wrapgraph.json.bad_value", at / "shared_bytes",
         "shared_bytes must be at least 0, got " + std::to_string(b.shared_bytes));
}

// Reads member `key` of `obj` into `m`: an absent optional is nullopt, absent
// meta is null, any other absent member is an error.
template <class M>
void read_member(const ojson& obj, std::string_view key, M& m, const json_path& at, reader& r) {
  const ojson* value = field(obj, key);
  if (value == nullptr) {
    if constexpr (is_optional_v<M>)
      m.reset();
    else if constexpr (std::is_same_v<M, meta_data>)
      m = nullptr;
    else
      fail("wrapgraph.json.missing_field", at, "missing field " + ojson(std::string(key)).dump());
    return;
  }
  read(*value, m, at / key, r);
}

// Reads the members of a reflected struct from the keys of `obj`; `tag` is
// one more key that the caller has read ("op").
template <reflected T>
void read_fields(const ojson& obj, T& out, const json_path& at, reader& r, std::string_view tag = {}) {
  static constexpr auto names = field_names<T>();
  expect_object(obj, at);
  check_keys(obj, at, names, tag);
  for_each_field<T>(
      [&](std::string_view name, auto get) { read_member(obj, json_name<T>(name), get(out), at, r); });
  check_value(out, at);
}

template <reflected T>
void read(const ojson& j, T& out, const json_path& at, reader& r) {
  read_fields(j, out, at, r);
}

inline void read(const ojson& j, std::string& out, const json_path& at, reader&) {
  if (!j.is_string()) wrong_type(j, at, "a string");
  out = j.get_ref<const std::string&>();
}

inline void read(const ojson& j, bool& out, const json_path& at, reader&) {
  if (!j.is_boolean()) wrong_type(j, at, "true or false");
  out = j.get<bool>();
}

inline void read(const ojson& j, std::int64_t& out, const json_path& at, reader&) {
  if (!j.is_number_integer()) wrong_type(j, at, "an integer");
  if (j.is_number_unsigned() &&
      j.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    fail("wrapgraph.json.bad_value", at, "the integer " + j.dump() + " is out of the range of int64");
  out = j.get<std::int64_t>();
}

// Names that no "symbols" declares become symbols with any_integer.
inline sym::expr parse_expression(const std::string& text, const json_path& at, reader& r) {
  static const sym::parse_options options{sym::any_integer, false, {}};
  try {
    return sym::parse(r.ctx, text, options);
  } catch (const error& e) {
    throw program_error(e.id(), where(at.str()) + ": " + e.message());
  }
}

inline void read(const ojson& j, sym::expr& out, const json_path& at, reader& r) {
  if (j.is_number_integer()) {
    std::int64_t v = 0;
    read(j, v, at, r);
    out = r.ctx.integer(v);
  } else if (j.is_string()) {
    out = parse_expression(j.get_ref<const std::string&>(), at, r);
  } else {
    wrong_type(j, at, "an expression (an integer or a string)");
  }
}

inline void read(const ojson& j, meta_data& out, const json_path&, reader&) { out = j; }

inline void read(const ojson& j, dtype& out, const json_path& at, reader&) {
  if (!j.is_string()) wrong_type(j, at, "a dtype name");
  const auto t = parse_dtype(j.get_ref<const std::string&>());
  if (!t) {
    std::string names;
    for (dtype d : all_dtypes) names += (names.empty() ? "" : ", ") + std::string(to_string(d));
    fail("wrapgraph.json.unknown_dtype", at, "unknown dtype " + j.dump() + " (the dtypes are " + names + ")");
  }
  out = *t;
}

inline void read(const ojson& j, device& out, const json_path& at, reader&) {
  if (!j.is_string()) wrong_type(j, at, "a device name");
  const auto d = parse_device(j.get_ref<const std::string&>());
  if (!d) fail("wrapgraph.json.unknown_device", at, "unknown device " + j.dump() + " (expected cpu or cuda:N)");
  out = *d;
}

inline constexpr std::array<std::string_view, 5> layout_keys{"dtype", "device", "size", "stride", "offset"};

// Reads the Layout keys of `obj`; the caller checks the other keys.
inline void read_layout_fields(const ojson& obj, tensor_layout& l, const json_path& at, reader& r) {
  read_member(obj, "dtype", l.type, at, r);
  read_member(obj, "device", l.dev, at, r);
  read_member(obj, "size", l.size, at, r);
  read_member(obj, "stride", l.stride, at, r);
  if (const ojson* offset = field(obj, "offset"))
    read(*offset, l.offset, at / "offset", r);
  else
    l.offset = r.ctx.integer(0);
}

inline void read(const ojson& j, tensor_layout& out, const json_path& at, reader& r) {
  expect_object(j, at, "a layout (an object)");
  check_keys(j, at, layout_keys);
  read_layout_fields(j, out, at, r);
}

inline void read(const ojson& j, buffer_decl& out, const json_path& at, reader& r) {
  static constexpr std::array<std::string_view, 6> keys{"name", "dtype", "device", "size", "stride", "offset"};
  expect_object(j, at, "a buffer (an object)");
  check_keys(j, at, keys);
  read_member(j, "name", out.name, at, r);
  read_layout_fields(j, out.layout, at, r);
  read_member(j, "meta", out.meta, at, r);
}

inline void read_view(const ojson& j, view_ref& out, const json_path& at, reader& r) {
  static constexpr std::array<std::string_view, 4> keys{"input", "size", "stride", "offset"};
  expect_object(j, at, "a view (an object)");
  check_keys(j, at, keys);
  read_member(j, "input", out.input, at, r);
  read_member(j, "size", out.size, at, r);
  read_member(j, "stride", out.stride, at, r);
  read_member(j, "offset", out.offset, at, r);
  read_member(j, "meta", out.meta, at, r);
}

inline void read(const ojson& j, ref& out, const json_path& at, reader& r) {
  constexpr std::string_view expected =
      "a reference (a name, {\"expr\": ...}, {\"view\": ...}, a number, a boolean or null)";
  switch (j.type()) {
    case ojson::value_t::string:
      out = name_ref{j.get<std::string>()};
      return;
    case ojson::value_t::null:
      out = none_ref{};
      return;
    case ojson::value_t::boolean:
      out = j.get<bool>();
      return;
    case ojson::value_t::number_integer:
    case ojson::value_t::number_unsigned: {
      std::int64_t v = 0;
      read(j, v, at, r);
      out = v;
      return;
    }
    case ojson::value_t::number_float:
      out = j.get<double>();
      return;
    case ojson::value_t::object:
      if (const ojson* e_json = field(j, "expr")) {
        static constexpr std::array<std::string_view, 1> keys{"expr"};
        check_keys(j, at, keys);
        expr_ref e;
        read(*e_json, e.value, at / "expr", r);
        out = e;
        return;
      }
      if (const ojson* v_json = field(j, "view")) {
        static constexpr std::array<std::string_view, 1> keys{"view"};
        check_keys(j, at, keys);
        view_ref v;
        read_view(*v_json, v, at / "view", r);
        out = std::move(v);
        return;
      }
      {
        static constexpr std::array<std::string_view, 2> keys{"expr", "view"};
        check_keys(j, at, keys);
      }
      fail("wrapgraph.json.missing_field", at, "a reference object needs the key \"expr\" or \"view\"");
    default:
      wrong_type(j, at, expected);
  }
}

inline void read(const ojson& j, key_step& out, const json_path& at, reader& r) {
  expect_object(j, at, "a key path step (an object)");
  out = key_step{};
  if (const ojson* method_json = field(j, "method")) {
    static constexpr std::array<std::string_view, 2> keys{"method", "index"};
    check_keys(j, at, keys);
    std::string method;
    read(*method_json, method, at / "method", r);
    if (method == "size")
      out.kind = key_step::kind_type::size;
    else if (method == "stride")
      out.kind = key_step::kind_type::stride;
    else if (method == "storage_offset")
      out.kind = key_step::kind_type::storage_offset;
    else
      fail("wrapgraph.json.bad_value", at / "method",
           "unknown method " + ojson(method).dump() + " (expected size, stride or storage_offset)");
    read_member(j, "index", out.index, at, r);
    if (out.index && out.kind == key_step::kind_type::storage_offset)
      fail("wrapgraph.json.bad_value", at / "index", "storage_offset takes no index");
  } else if (const ojson* divisor = field(j, "divide_by")) {
    static constexpr std::array<std::string_view, 1> keys{"divide_by"};
    check_keys(j, at, keys);
    out.kind = key_step::kind_type::divide_by;
    read(*divisor, out.divisor, at / "divide_by", r);
  } else if (const ojson* index = field(j, "index")) {
    static constexpr std::array<std::string_view, 1> keys{"index"};
    check_keys(j, at, keys);
    out.kind = key_step::kind_type::element;
    out.index.emplace();
    read(*index, *out.index, at / "index", r);
  } else {
    static constexpr std::array<std::string_view, 3> keys{"method", "index", "divide_by"};
    check_keys(j, at, keys);
    fail("wrapgraph.json.missing_field", at, "a key path step needs \"method\", \"index\" or \"divide_by\"");
  }
}

inline void read(const ojson& j, kernel_value& out, const json_path& at, reader& r) {
  if (j.is_number_integer()) {
    std::int64_t v = 0;
    read(j, v, at, r);
    out = v;
  } else if (j.is_number_float()) {
    out = j.get<double>();
  } else if (j.is_boolean()) {
    out = j.get<bool>();
  } else if (j.is_array()) {
    std::vector<std::int64_t> v;
    read(j, v, at, r);
    out = std::move(v);
  } else {
    wrong_type(j, at, "an integer, a number, a boolean or a list of integers");
  }
}

inline constexpr std::array<std::string_view, 3> result_kind_names{"tensor", "multi", "none"};

inline void read(const ojson& j, extern_result_kind& out, const json_path& at, reader& r) {
  std::string name;
  read(j, name, at, r);
  for (std::size_t i = 0; i < result_kind_names.size(); ++i) {
    if (name == result_kind_names[i]) {
      out = static_cast<extern_result_kind>(i);
      return;
    }
  }
  fail("wrapgraph.json.bad_value", at,
       "unknown result_kind " + j.dump() + " (expected tensor, multi or none)");
}

inline void read(const ojson& j, cubin_implementation& out, const json_path& at, reader& r) {
  expect_object(j, at, "a cubin (an object)");
  out = cubin_implementation{};
  if (const ojson* per_config = field(j, "per_config")) {
    static constexpr std::array<std::string_view, 1> keys{"per_config"};
    check_keys(j, at, keys);
    read(*per_config, out.per_config, at / "per_config", r);
    if (out.per_config.empty())
      fail("wrapgraph.json.bad_value", at / "per_config", "per_config lists no binary");
  } else {
    read_fields(j, out.binary.emplace(), at, r);
  }
}

inline void read(const ojson& j, symbol_decl& out, const json_path& at, reader& r) {
  static constexpr std::array<std::string_view, 2> keys{"hint", "unbacked"};
  expect_object(j, at, "a symbol declaration (an object)");
  check_keys(j, at, keys);
  read_member(j, "hint", out.hint, at, r);
  out.unbacked = false;
  if (const ojson* unbacked = field(j, "unbacked")) read(*unbacked, out.unbacked, at / "unbacked", r);
  read_member(j, "meta", out.meta, at, r);
  if (out.hint && *out.hint < (out.unbacked ? 0 : 1))
    fail("wrapgraph.json.bad_value", at / "hint",
         std::string(out.unbacked ? "an unbacked symbol's hint must be at least 0"
                                  : "a size symbol's hint must be at least 1 (sizes are positive)") +
             ", got " + std::to_string(*out.hint));
}

template <class T>
void read(const ojson& j, std::vector<T>& out, const json_path& at, reader& r) {
  expect_array(j, at);
  out.clear();
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) read(j[i], out.emplace_back(), at[i], r);
}

template <class V>
void read(const ojson& j, std::vector<std::pair<std::string, V>>& out, const json_path& at, reader& r) {
  expect_object(j, at);
  out.clear();
  out.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto& entry = out.emplace_back();
    entry.first = it.key();
    read(it.value(), entry.second, at / entry.first, r);
  }
}

template <class T>
void read(const ojson& j, std::optional<T>& out, const json_path& at, reader& r) {
  if (j.is_null()) {
    out.reset();
    return;
  }
  read(j, out.emplace(), at, r);
}

// Dispatches on "op" over the alternatives of `line`, reading the line in
// place.
template <std::size_t I>
bool read_line_if(const ojson& j, std::string_view op, line& out, const json_path& at, reader& r) {
  using T = std::variant_alternative_t<I, line>;
  if (op != T::op) return false;
  read_fields(j, out.template emplace<I>(), at, r, "op");
  return true;
}
template <std::size_t... I>
bool read_line_of_kind(const ojson& j, std::string_view op, line& out, const json_path& at, reader& r,
                       std::index_sequence<I...>) {
  return (read_line_if<I>(j, op, out, at, r) || ...);
}

inline void read(const ojson& j, line& out, const json_path& at, reader& r) {
  expect_object(j, at, "a line (an object with an \"op\")");
  const ojson* op = field(j, "op");
  if (op == nullptr) fail("wrapgraph.json.missing_field", at, "missing field \"op\"");
  if (!op->is_string()) wrong_type(*op, at / "op", "an op name");
  const std::string& name = op->get_ref<const std::string&>();
  if (!read_line_of_kind(j, name, out, at, r, std::make_index_sequence<line_kind_count>{}))
    fail("wrapgraph.json.unknown_op", at / "op", "unknown op " + op->dump());
}

// ---- programs ----------------------------------------------------------------

inline input read_input(const ojson& j, const json_path& at, reader& r) {
  static constexpr std::array<std::string_view, 6> tensor_keys{"name", "dtype", "device", "size", "stride", "offset"};
  static constexpr std::array<std::string_view, 2> int_keys{"name", "value"};
  static constexpr std::array<std::string_view, 1> name_keys{"name"};
  expect_object(j, at, "an input (an object)");
  const ojson* kind = field(j, "kind");
  if (kind == nullptr) fail("wrapgraph.json.missing_field", at, "missing field \"kind\"");
  if (!kind->is_string()) wrong_type(*kind, at / "kind", "an input kind");
  const std::string& k = kind->get_ref<const std::string&>();
  input in;
  if (k == tensor_input::kind) {
    check_keys(j, at, tensor_keys, "kind");
    auto& t = in.emplace<tensor_input>();
    read_member(j, "name", t.name, at, r);
    read_layout_fields(j, t.layout, at, r);
    read_member(j, "meta", t.meta, at, r);
  } else if (k == int_input::kind) {
    check_keys(j, at, int_keys, "kind");
    auto& i = in.emplace<int_input>();
    read_member(j, "name", i.name, at, r);
    read_member(j, "value", i.value, at, r);
    read_member(j, "meta", i.meta, at, r);
  } else if (k == symbol_input::kind) {
    check_keys(j, at, name_keys, "kind");
    auto& s = in.emplace<symbol_input>();
    read_member(j, "name", s.name, at, r);
    read_member(j, "meta", s.meta, at, r);
  } else if (k == none_input::kind) {
    check_keys(j, at, name_keys, "kind");
    auto& n = in.emplace<none_input>();
    read_member(j, "name", n.name, at, r);
    read_member(j, "meta", n.meta, at, r);
  } else {
    fail("wrapgraph.json.bad_value", at / "kind",
         "unknown input kind " + kind->dump() + " (expected tensor, symbol, int or none)");
  }
  return in;
}

// A flat list of numbers (and booleans): a tensor's logical elements.
inline void check_data(const ojson& j, const json_path& at) {
  expect_array(j, at, "a list of numbers");
  for (std::size_t i = 0; i < j.size(); ++i)
    if (!j[i].is_number() && !j[i].is_boolean()) wrong_type(j[i], at[i], "a number");
}

inline constant_decl read_constant(const ojson& j, const json_path& at, reader& r) {
  static constexpr std::array<std::string_view, 7> keys{"name",   "dtype",  "device", "size",
                                                        "stride", "offset", "data"};
  expect_object(j, at, "a constant (an object)");
  check_keys(j, at, keys);
  constant_decl c;
  read_member(j, "name", c.name, at, r);
  read_layout_fields(j, c.layout, at, r);
  const ojson* data = field(j, "data");
  if (data == nullptr) fail("wrapgraph.json.missing_field", at, "missing field \"data\"");
  check_data(*data, at / "data");
  c.data = *data;
  read_member(j, "meta", c.meta, at, r);
  return c;
}

// Examples are kept as written; this checks their shape.
inline void check_example(const ojson& j, const json_path& at, reader& r) {
  static constexpr std::array<std::string_view, 4> keys{"bind", "inputs", "outputs", "raises"};
  expect_object(j, at, "an example (an object)");
  check_keys(j, at, keys);
  if (const ojson* bind = field(j, "bind")) {
    const json_path p = at / "bind";
    expect_object(*bind, p);
    for (auto it = bind->begin(); it != bind->end(); ++it)
      if (!it.value().is_number_integer()) wrong_type(it.value(), p / it.key(), "an integer");
  }
  if (const ojson* inputs = field(j, "inputs")) {
    static constexpr std::array<std::string_view, 1> data_keys{"data"};
    const json_path p = at / "inputs";
    expect_object(*inputs, p);
    for (auto it = inputs->begin(); it != inputs->end(); ++it) {
      const ojson& v = it.value();
      const json_path q = p / it.key();
      if (v.is_number_integer() || v.is_null()) continue;
      expect_object(v, q, "{\"data\": [...]}, an integer or null");
      check_keys(v, q, data_keys);
      const ojson* data = field(v, "data");
      if (data == nullptr) fail("wrapgraph.json.missing_field", q, "missing field \"data\"");
      check_data(*data, q / "data");
    }
  }
  if (const ojson* outputs = field(j, "outputs")) {
    static constexpr std::array<std::string_view, 1> value_keys{"value"};
    static constexpr std::array<std::string_view, 5> tensor_keys{"size", "data", "dtype", "atol", "rtol"};
    const json_path p = at / "outputs";
    expect_array(*outputs, p);
    for (std::size_t i = 0; i < outputs->size(); ++i) {
      const ojson& v = (*outputs)[i];
      const json_path q = p[i];
      if (v.is_null()) continue;
      expect_object(v, q, "a tensor {\"size\", \"data\", ...}, {\"value\": n} or null");
      if (const ojson* value = field(v, "value")) {
        check_keys(v, q, value_keys);
        if (!value->is_number_integer()) wrong_type(*value, q / "value", "an integer");
        continue;
      }
      check_keys(v, q, tensor_keys);
      const ojson* size = field(v, "size");
      const ojson* data = field(v, "data");
      if (size == nullptr) fail("wrapgraph.json.missing_field", q, "missing field \"size\"");
      if (data == nullptr) fail("wrapgraph.json.missing_field", q, "missing field \"data\"");
      const json_path size_path = q / "size";
      expect_array(*size, size_path, "a list of integers");
      for (std::size_t d = 0; d < size->size(); ++d)
        if (!(*size)[d].is_number_integer()) wrong_type((*size)[d], size_path[d], "an integer");
      check_data(*data, q / "data");
      if (const ojson* type = field(v, "dtype")) {
        dtype t{};
        read(*type, t, q / "dtype", r);
      }
      for (std::string_view key : {"atol", "rtol"})
        if (const ojson* tol = field(v, key); tol != nullptr && !tol->is_number())
          wrong_type(*tol, q / key, "a number");
    }
  }
  if (const ojson* raises = field(j, "raises"); raises != nullptr && !raises->is_null() && !raises->is_string())
    wrong_type(*raises, at / "raises", "an error id or null");
}

// Declares the symbols of a program and of its subgraphs, before anything is
// parsed, so that a name means the same everywhere.
inline void declare_symbols(const ojson& j, const json_path& at, reader& r) {
  if (!j.is_object()) return;
  if (const ojson* s = field(j, "symbols")) {
    const json_path p = at / "symbols";
    expect_object(*s, p);
    for (auto it = s->begin(); it != s->end(); ++it) {
      const json_path q = p / it.key();
      symbol_decl decl;
      read(it.value(), decl, q, r);
      try {
        (void)r.ctx.symbol(it.key(), assumptions_of(decl));
      } catch (const error& e) {
        throw program_error(e.id(), where(q.str()) + ": " + e.message());
      }
    }
  }
  if (const ojson* s = field(j, "subgraphs"); s != nullptr && s->is_object())
    for (auto it = s->begin(); it != s->end(); ++it) {
      const json_path subgraphs = at / "subgraphs";
      declare_symbols(it.value(), subgraphs / it.key(), r);
    }
}


inline void read_program(const ojson& j, program& p, const json_path& at, reader& r, bool top) {
  static constexpr std::array<std::string_view, 9> keys{"format", "name",    "symbols",   "inputs",  "constants",
                                                        "lines",  "outputs", "subgraphs", "examples"};
  expect_object(j, at, top ? "a program (an object)" : "a subgraph (a program object)");
  check_keys(j, at, keys);
  if (const ojson* f = field(j, "format")) {
    if (!f->is_string() || f->get_ref<const std::string&>() != format_version)
      fail("wrapgraph.json.bad_format", at / "format",
           "this reader knows the format \"wrapgraph/1\", got " + describe(*f));
  } else if (top) {
    fail("wrapgraph.json.missing_field", at, "missing field \"format\" (expected \"wrapgraph/1\")");
  }
  if (top) declare_symbols(j, at, r);
  if (const ojson* name = field(j, "name")) read(*name, p.name, at / "name", r);
  if (const ojson* symbols = field(j, "symbols")) read(*symbols, p.symbols, at / "symbols", r);

  if (const ojson* inputs = field(j, "inputs")) {
    const json_path in = at / "inputs";
    expect_array(*inputs, in);
    for (std::size_t i = 0; i < inputs->size(); ++i) p.inputs.push_back(read_input((*inputs)[i], in[i], r));
  }
  if (const ojson* constants = field(j, "constants")) {
    const json_path c = at / "constants";
    expect_array(*constants, c);
    for (std::size_t i = 0; i < constants->size(); ++i)
      p.constants.push_back(read_constant((*constants)[i], c[i], r));
  }
  if (const ojson* lines = field(j, "lines")) read(*lines, p.lines, at / "lines", r);
  if (const ojson* outputs = field(j, "outputs")) read(*outputs, p.outputs, at / "outputs", r);
  if (const ojson* subgraphs = field(j, "subgraphs")) {
    const json_path s = at / "subgraphs";
    expect_object(*subgraphs, s);
    for (auto it = subgraphs->begin(); it != subgraphs->end(); ++it) {
      subgraph& g = p.subgraphs.emplace_back();
      g.name = it.key();
      g.body.ctx = p.ctx;
      g.body.name = it.key();
      read_program(it.value(), g.body, s / it.key(), r, false);
    }
  }
  if (const ojson* examples = field(j, "examples")) {
    const json_path e = at / "examples";
    expect_array(*examples, e);
    for (std::size_t i = 0; i < examples->size(); ++i) {
      check_example((*examples)[i], e[i], r);
      p.examples.push_back((*examples)[i]);
    }
  }
  read_member(j, "meta", p.meta, at, r);
}

// Finds keys given twice in one object while the text is parsed (the parsed
// JSON keeps only one of them).
class duplicate_key_check {
 public:
  bool operator()(int, ojson::parse_event_t event, ojson& parsed) {
    switch (event) {
      case ojson::parse_event_t::object_start:
        frames_.push_back({true, 0, {}, {}});
        break;
      case ojson::parse_event_t::array_start:
        frames_.push_back({false, 0, {}, {}});
        break;
      case ojson::parse_event_t::key: {
        frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) {
          std::string path;
          for (const frame& g : frames_) {
            if (g.is_object)
              append_key(path, g.key);
            else
              append_index(path, g.index);
          }
          throw program_error("wrapgraph.json.duplicate_name",
                              where(path) + ": the key " + ojson(f.key).dump() + " is given twice");
        }
        break;
      }
      case ojson::parse_event_t::object_end:
      case ojson::parse_event_t::array_end:
        frames_.pop_back();
        next_element();
        break;
      case ojson::parse_event_t::value:
        next_element();
        break;
    }
    return true;
  }

 private:
  struct frame {
    bool is_object;
    std::size_t index;
    std::string key;
    std::set<std::string, std::less<>> keys;
  };
  void next_element() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
  }
  std::vector<frame> frames_;
};

// ---- writing -----------------------------------------------------------------

// The value of key `key` in `obj`, created as null when absent.
inline ojson& put(ojson& obj, std::string_view key) { return obj[std::string(key)]; }

ojson write(const std::string& x);
ojson write(bool x);
ojson write(std::int64_t x);
ojson write(double x);
ojson write(sym::expr x);
ojson write(const meta_data& x);
ojson write(const tensor_layout& x);
ojson write(const buffer_decl& x);
ojson write(const ref& x);
ojson write(const key_step& x);
ojson write(const kernel_value& x);
ojson write(extern_result_kind x);
ojson write(const cubin_implementation& x);
ojson write(const symbol_decl& x);
ojson write(const line& x);
template <class T>
ojson write(const std::vector<T>& x);
template <class V>
ojson write(const std::vector<std::pair<std::string, V>>& x);
template <class T>
ojson write(const std::optional<T>& x);
template <reflected T>
ojson write(const T& x);

// Appends the members of a reflected struct to `out`, leaving out absent
// optionals and null meta.
template <reflected T>
void write_fields(const T& x, ojson& out) {
  wrapgraph::detail::for_each_present_field(
      x, [&](std::string_view name, const auto& m) { put(out, json_name<T>(name)) = write(m); });
}

template <reflected T>
ojson write(const T& x) {
  ojson out = ojson::object();
  write_fields(x, out);
  return out;
}

inline ojson write(const std::string& x) { return x; }
inline ojson write(bool x) { return x; }
inline ojson write(std::int64_t x) { return x; }
inline ojson write(double x) { return x; }
// An integer as a JSON integer, anything else as its text; a null expression
// (a builder's default offset) as 0.
inline ojson write(sym::expr x) {
  if (x.is_null()) return 0;
  if (x.is_integer()) return x.value();
  return sym::to_string(x);
}
inline ojson write(const meta_data& x) { return x; }

inline void write_layout_fields(const tensor_layout& l, ojson& out) {
  put(out, "dtype") = std::string(to_string(l.type));
  put(out, "device") = to_string(l.dev);
  put(out, "size") = write(l.size);
  put(out, "stride") = write(l.stride);
  put(out, "offset") = write(l.offset);
}

inline ojson write(const tensor_layout& x) {
  ojson out = ojson::object();
  write_layout_fields(x, out);
  return out;
}

inline ojson write(const buffer_decl& x) {
  ojson out = ojson::object();
  put(out, "name") = x.name;
  write_layout_fields(x.layout, out);
  if (!x.meta.is_null()) put(out, "meta") = x.meta;
  return out;
}

inline ojson write(const ref& x) {
  return std::visit(
      [](const auto& v) -> ojson {
        using V = std::remove_cvref_t<decltype(v)>;
        if constexpr (std::is_same_v<V, name_ref>) {
          return v.name;
        } else if constexpr (std::is_same_v<V, expr_ref>) {
          ojson out = ojson::object();
          put(out, "expr") = write(v.value);
          return out;
        } else if constexpr (std::is_same_v<V, view_ref>) {
          ojson view = ojson::object();
          put(view, "input") = v.input;
          put(view, "size") = write(v.size);
          put(view, "stride") = write(v.stride);
          put(view, "offset") = write(v.offset);
          if (!v.meta.is_null()) put(view, "meta") = v.meta;
          ojson out = ojson::object();
          put(out, "view") = std::move(view);
          return out;
        } else if constexpr (std::is_same_v<V, none_ref>) {
          return nullptr;
        } else {
          return v;
        }
      },
      x);
}

inline ojson write(const key_step& x) {
  ojson out = ojson::object();
  switch (x.kind) {
    case key_step::kind_type::size:
    case key_step::kind_type::stride:
    case key_step::kind_type::storage_offset:
      put(out, "method") = x.kind == key_step::kind_type::size     ? "size"
                      : x.kind == key_step::kind_type::stride ? "stride"
                                                              : "storage_offset";
      if (x.index && x.kind != key_step::kind_type::storage_offset) put(out, "index") = *x.index;
      break;
    case key_step::kind_type::element:
      put(out, "index") = x.index.value_or(0);
      break;
    case key_step::kind_type::divide_by:
      put(out, "divide_by") = x.divisor;
      break;
  }
  return out;
}

inline ojson write(const kernel_value& x) {
  return std::visit([](const auto& v) -> ojson { return v; }, x);
}

inline ojson write(extern_result_kind x) {
  return std::string(result_kind_names[static_cast<std::size_t>(x)]);
}

// One binary as its fields, else {"per_config": [...]}.
inline ojson write(const cubin_implementation& x) {
  WRAPGRAPH_ASSERT(!(x.binary && !x.per_config.empty()),
                   "a cubin_implementation holds one binary or per_config binaries, not both");
  if (x.binary) return write(*x.binary);
  ojson out = ojson::object();
  put(out, "per_config") = write(x.per_config);
  return out;
}

inline ojson write(const symbol_decl& x) {
  ojson out = ojson::object();
  if (x.hint) put(out, "hint") = *x.hint;
  if (x.unbacked) put(out, "unbacked") = true;
  if (!x.meta.is_null()) put(out, "meta") = x.meta;
  return out;
}

inline ojson write(const line& x) {
  return std::visit(
      [](const auto& l) {
        ojson out = ojson::object();
        put(out, "op") = std::string(std::remove_cvref_t<decltype(l)>::op);
        write_fields(l, out);
        return out;
      },
      x);
}

template <class T>
ojson write(const std::vector<T>& x) {
  ojson out = ojson::array();
  for (const T& v : x) out.push_back(write(v));
  return out;
}

template <class V>
ojson write(const std::vector<std::pair<std::string, V>>& x) {
  ojson out = ojson::object();
  for (const auto& [key, value] : x) put(out, key) = write(value);
  return out;
}

template <class T>
ojson write(const std::optional<T>& x) {
  return x ? write(*x) : ojson(nullptr);
}

inline ojson write(const input& x) {
  return std::visit(
      [](const auto& in) {
        using I = std::remove_cvref_t<decltype(in)>;
        ojson out = ojson::object();
        put(out, "kind") = std::string(I::kind);
        put(out, "name") = in.name;
        if constexpr (std::is_same_v<I, tensor_input>) write_layout_fields(in.layout, out);
        if constexpr (std::is_same_v<I, int_input>) put(out, "value") = in.value;
        if (!in.meta.is_null()) put(out, "meta") = in.meta;
        return out;
      },
      x);
}

inline ojson write_program(const program& p, const std::string* subgraph_name) {
  ojson out = ojson::object();
  if (subgraph_name == nullptr) put(out, "format") = std::string(format_version);
  if (subgraph_name == nullptr || p.name != *subgraph_name) put(out, "name") = p.name;
  put(out, "symbols") = write(p.symbols);
  ojson inputs = ojson::array();
  for (const input& in : p.inputs) inputs.push_back(write(in));
  put(out, "inputs") = std::move(inputs);
  ojson constants = ojson::array();
  for (const constant_decl& c : p.constants) {
    ojson o = ojson::object();
    put(o, "name") = c.name;
    write_layout_fields(c.layout, o);
    put(o, "data") = c.data;
    if (!c.meta.is_null()) put(o, "meta") = c.meta;
    constants.push_back(std::move(o));
  }
  put(out, "constants") = std::move(constants);
  put(out, "lines") = write(p.lines);
  put(out, "outputs") = write(p.outputs);
  if (!p.subgraphs.empty()) {
    ojson subgraphs = ojson::object();
    for (const subgraph& s : p.subgraphs) put(subgraphs, s.name) = write_program(s.body, &s.name);
    put(out, "subgraphs") = std::move(subgraphs);
  }
  if (!p.examples.empty()) put(out, "examples") = p.examples;
  if (!p.meta.is_null()) put(out, "meta") = p.meta;
  return out;
}

}  // namespace detail

/// The program a `wrapgraph/1` JSON document describes. Its expressions live
/// in a new context (`program::ctx`), shared with its subgraphs. Throws
/// program_error naming the JSON path of the first problem.
[[nodiscard]] inline program load_program(const nlohmann::ordered_json& j) {
  program p;
  detail::reader r{*p.ctx};
  detail::read_program(j, p, detail::json_path{}, r, true);
  return p;
}

/// The same from an unordered nlohmann::json. Its objects have lost their
/// order (kwargs, bindings, symbols, subgraphs come back sorted by key), so
/// prefer the ordered overload or load_program_text.
[[nodiscard]] inline program load_program(const nlohmann::json& j) {
  return load_program(nlohmann::ordered_json(j));
}

/// The program in a JSON text; also rejects a key given twice in one object
/// (wrapgraph.json.duplicate_name), which a parsed document cannot show.
[[nodiscard]] inline program load_program_text(std::string_view text) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text.begin(), text.end(), detail::duplicate_key_check{});
  } catch (const nlohmann::ordered_json::parse_error& e) {
    std::string message = e.what();
    const auto bracket = message.find("] ");
    if (message.starts_with("[json.exception") && bracket != std::string::npos) message.erase(0, bracket + 2);
    throw program_error("wrapgraph.json.parse_error", "not valid JSON: " + message);
  }
  return load_program(j);
}

/// The program in the file at `path`; errors carry the path in front of the
/// JSON path ("model.json: at lines[3].grid: ...").
[[nodiscard]] inline program load_program_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  if (!file || !(text << file.rdbuf()))
    throw program_error("wrapgraph.json.io", "cannot read the program file '" + path + "'");
  try {
    return load_program_text(text.str());
  } catch (const program_error& e) {
    throw program_error(e.id(), path + ": " + e.message());
  }
}

/// The canonical JSON form of a program: keys in the format's order;
/// expressions as JSON integers when constant, else as their sympy text;
/// offsets always written; absent optional fields and null meta left out;
/// "subgraphs" and "examples" only when non-empty. load_program of it gives
/// an equal program (lines/compare.hpp).
[[nodiscard]] inline nlohmann::ordered_json save_program(const program& p) {
  return detail::write_program(p, nullptr);
}

/// save_program(p) as text, indented by `indent` spaces (-1: one line).
[[nodiscard]] inline std::string save_program_text(const program& p, int indent = 2) {
  return save_program(p).dump(indent);
}

/// Writes save_program_text(p, indent) and a newline to the file at `path`.
inline void save_program_file(const program& p, const std::string& path, int indent = 2) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (file) file << save_program_text(p, indent) << '\n';
  if (!file) throw program_error("wrapgraph.json.io", "cannot write the program file '" + path + "'");
}

}  // namespace wrapgraph::io
