#pragma once
/// Boost.Hana reflection helpers shared by the generic code over lines: JSON
/// (io/json.hpp), equality (lines/compare.hpp) and printing (lines/print.hpp).

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/core/to.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

namespace wrapgraph::detail {

/// A type reflected with BOOST_HANA_DEFINE_STRUCT.
template <class T>
concept reflected = boost::hana::Struct<T>::value;

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

template <class T>
inline constexpr bool is_vector_v = false;
template <class T>
inline constexpr bool is_vector_v<std::vector<T>> = true;

template <class T>
inline constexpr bool is_pair_v = false;
template <class A, class B>
inline constexpr bool is_pair_v<std::pair<A, B>> = true;

/// std::vector<std::pair<std::string, V>>: named values in order (kwargs,
/// bindings, kernel constants), a JSON object.
template <class T>
inline constexpr bool is_named_list_v = false;
template <class V>
inline constexpr bool is_named_list_v<std::vector<std::pair<std::string, V>>> = true;

template <class T>
inline constexpr bool is_variant_v = false;
template <class... Ts>
inline constexpr bool is_variant_v<std::variant<Ts...>> = true;

// The accessors of a Hana struct are a hana::tuple of hana::pair<name,
// function>; walking the tuple's type directly, rather than with
// hana::for_each, keeps the instantiations per member to a minimum (compile
// time).
template <class T, class F, class... Name, class... Get>
constexpr void for_each_field_of(F& f, boost::hana::tuple<boost::hana::pair<Name, Get>...>*) {
  (f(std::string_view(boost::hana::to<char const*>(Name{})), Get{}), ...);
}

template <class... Name, class... Get>
constexpr auto member_names_of(boost::hana::tuple<boost::hana::pair<Name, Get>...>*) {
  return std::array<std::string_view, sizeof...(Name)>{std::string_view(boost::hana::to<char const*>(Name{}))...};
}

/// The C++ names of T's members, in declaration order.
template <reflected T>
constexpr auto member_names() {
  using accessors = decltype(boost::hana::accessors<T>());
  return member_names_of(static_cast<std::remove_cvref_t<accessors>*>(nullptr));
}

/// Calls f(name, get) for each member of T in declaration order, where `name`
/// is the member's C++ name and get(x) returns the member of an object x.
template <reflected T, class F>
constexpr void for_each_field(F&& f) {
  using accessors = decltype(boost::hana::accessors<T>());
  for_each_field_of<T>(f, static_cast<std::remove_cvref_t<accessors>*>(nullptr));
}

/// Calls f(name, member) for each member of x that is present: an absent
/// optional and null meta are left out, as JSON and printing both do.
template <reflected T, class F>
void for_each_present_field(const T& x, F&& f) {
  for_each_field<T>([&](std::string_view name, auto get) {
    const auto& m = get(x);
    using M = std::remove_cvref_t<decltype(m)>;
    if constexpr (is_optional_v<M>) {
      if (!m) return;
    } else if constexpr (std::is_same_v<M, nlohmann::ordered_json>) {  // meta_data
      if (m.is_null()) return;
    }
    f(name, m);
  });
}

}  // namespace wrapgraph::detail
