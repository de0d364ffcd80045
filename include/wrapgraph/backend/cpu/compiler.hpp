#pragma once
/// Compiling `cpp` kernel implementations with the system C++ compiler into
/// shared objects, cached on disk by a hash of everything that went into
/// them, and loading them with dlopen.
///
/// A kernel is compiled from one text: its `#define`s (the constants, then
/// the chosen config), a `#line 1` directive and its source. The object's
/// file name is a 128-bit FNV-1a hash of that text, the compiler command, the
/// flags and the compiler's `--version` output, so a second compile of the
/// same kernel, in this process or another, loads the object and runs no
/// compiler. Objects are written under a temporary name and renamed into
/// place, so processes that share the cache folder never see half a file.

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <wrapgraph/error.hpp>
#include <wrapgraph/lines/lines.hpp>

extern char** environ;  // POSIX; <unistd.h> declares it only with _GNU_SOURCE

namespace wrapgraph::backend::cpu {

/// The `cpp` ABI: called once per program instance of the grid. `params[i]`
/// points at the value of the i-th launched parameter; `program_id` and
/// `num_programs` point at three values each (x, y, z).
using kernel_entry = void (*)(void** params, const std::int64_t* program_id,
                              const std::int64_t* num_programs);

// ---- shared libraries --------------------------------------------------------

/// A shared object opened with `dlopen(RTLD_NOW | RTLD_LOCAL)` and closed
/// when this handle dies. Move-only.
class shared_library {
 public:
  /// Opens `path`; backend_error `wrapgraph.kernel.load_failed`, with
  /// dlerror's text, when it cannot be loaded (no such file, not a shared
  /// object, an undefined symbol).
  explicit shared_library(const std::filesystem::path& path) : path_(path) {
    handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      throw backend_error("wrapgraph.kernel.load_failed",
                          "cannot load '" + path.string() + "': " + (why ? why : "unknown dlopen error"));
    }
  }
  shared_library(const shared_library&) = delete;
  shared_library& operator=(const shared_library&) = delete;
  shared_library(shared_library&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)), path_(std::move(other.path_)) {}
  shared_library& operator=(shared_library&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, nullptr);
      path_ = std::move(other.path_);
    }
    return *this;
  }
  ~shared_library() { close(); }

  /// The address of the symbol `name`; backend_error
  /// `wrapgraph.kernel.missing_entry`, with dlerror's text, when the library
  /// does not define it (or this handle was moved from).
  [[nodiscard]] void* symbol(std::string_view name) const {
    if (handle_ == nullptr)
      throw backend_error("wrapgraph.kernel.missing_entry",
                          "no symbol '" + std::string(name) + "': the library handle is empty (moved from)");
    const std::string key(name);
    ::dlerror();
    void* address = ::dlsym(handle_, key.c_str());
    if (const char* why = ::dlerror())
      throw backend_error("wrapgraph.kernel.missing_entry",
                          "no symbol '" + key + "' in '" + path_.string() + "': " + why);
    return address;
  }

  /// The address of the symbol `name`, or nullptr when it is absent.
  [[nodiscard]] void* find_symbol(std::string_view name) const noexcept {
    if (handle_ == nullptr) return nullptr;
    try {
      const std::string key(name);
      return ::dlsym(handle_, key.c_str());
    } catch (...) {
      return nullptr;
    }
  }

  /// The path it was opened from.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// The dlopen handle; nullptr after a move.
  [[nodiscard]] void* native_handle() const noexcept { return handle_; }

 private:
  void close() noexcept {
    if (handle_ != nullptr) ::dlclose(handle_);
    handle_ = nullptr;
  }

  void* handle_ = nullptr;
  std::filesystem::path path_;
};

// ---- options and results -----------------------------------------------------

/// A loaded kernel. It keeps its library alive: `entry` stays valid as long
/// as some copy of this (or of `library`) does.
struct compiled_kernel {
  /// The kernel's name, as given to compile().
  std::string name;
  /// The entry function, found by the implementation's `entry` name.
  kernel_entry entry = nullptr;
  /// The shared object the entry lives in.
  std::shared_ptr<const shared_library> library;
  /// True when no compiler ran: the object came from the disk cache or was
  /// already loaded by this kernel_compiler.
  bool from_cache = false;
  /// The cached object file, `<cache_dir>/cpu/<key>.so`.
  std::filesystem::path object;
};

namespace detail {

inline std::string environment_value(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

/// Splits on blanks (space, tab, newline); no quoting.
inline std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace detail

/// How kernels are compiled and where their objects are kept. A
/// default-constructed value reads the environment (see the static members).
struct compiler_options {
  /// `$WRAPGRAPH_CXX`, else `$CXX`, else `c++`, split on blanks (no quoting),
  /// so a launcher may come first: `ccache g++`.
  static std::vector<std::string> default_compiler() {
    for (const char* name : {"WRAPGRAPH_CXX", "CXX"}) {
      std::vector<std::string> words = detail::split_words(detail::environment_value(name));
      if (!words.empty()) return words;
    }
    return {"c++"};
  }

  /// `-O2 -std=c++17 -fPIC -shared`. No `-march=native`: the cache key does
  /// not name the machine, and a cache folder may be shared between
  /// machines; add it here for a private cache.
  static std::vector<std::string> default_flags() { return {"-O2", "-std=c++17", "-fPIC", "-shared"}; }

  /// `$WRAPGRAPH_CACHE_DIR`, else `$XDG_CACHE_HOME/wrapgraph` (when absolute),
  /// else `$HOME/.cache/wrapgraph`, else `wrapgraph-<uid>` in the system's
  /// temporary folder. Empty variables count as unset.
  static std::filesystem::path default_cache_dir() {
    if (std::string dir = detail::environment_value("WRAPGRAPH_CACHE_DIR"); !dir.empty()) return dir;
    if (std::filesystem::path xdg = detail::environment_value("XDG_CACHE_HOME"); xdg.is_absolute())
      return xdg / "wrapgraph";
    if (std::string home = detail::environment_value("HOME"); !home.empty())
      return std::filesystem::path(home) / ".cache" / "wrapgraph";
    std::error_code ec;
    std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
    if (ec || tmp.empty()) tmp = "/tmp";
    return tmp / ("wrapgraph-" + std::to_string(::getuid()));
  }

  /// The compiler: the program (looked up in PATH unless it holds a '/')
  /// and any leading arguments.
  std::vector<std::string> compiler = default_compiler();
  /// Arguments after the compiler command; `<source> -o <object>` follow.
  std::vector<std::string> flags = default_flags();
  /// The cache's root; CPU objects go in its `cpu` subfolder, created on
  /// the first compile.
  std::filesystem::path cache_dir = default_cache_dir();
};

// ---- defines -----------------------------------------------------------------

namespace detail {

inline bool is_c_identifier(std::string_view name) noexcept {
  if (name.empty()) return false;
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name.front())) return false;
  for (char c : name)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

inline std::string integer_literal(std::int64_t v) {
  if (v == std::numeric_limits<std::int64_t>::min()) return "(-9223372036854775807LL - 1)";
  if (v < 0) return "(" + std::to_string(v) + ")";
  return std::to_string(v);
}

/// The shortest text that reads back as exactly `v`, always a floating
/// literal (`3.0`, not `3`).
inline std::string double_literal(double v) {
  if (std::isnan(v)) return "(__builtin_nan(\"\"))";
  if (std::isinf(v)) return v > 0 ? "(__builtin_inf())" : "(-__builtin_inf())";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  WRAPGRAPH_ASSERT(ec == std::errc(), "64 characters hold any double");
  std::string text(buffer, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  if (text.front() == '-') text = "(" + text + ")";
  return text;
}

inline std::string value_literal(const kernel_value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "1" : "0";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return integer_literal(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return double_literal(v);
        } else {
          static_assert(std::is_same_v<T, std::vector<std::int64_t>>, "a new kernel_value alternative needs a literal");
          std::string text = "{";
          for (std::size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + integer_literal(v[i]);
          return text + "}";
        }
      },
      value);
}

}  // namespace detail

/// The `#define` lines of `values`, one per value, in the order given:
/// `#define NAME LITERAL\n`. An int64 prints as the integer (a negative one
/// in parentheses), a double as its shortest round-trip literal (`0.1`,
/// `3.0`, `(-2.5)`, `1e+300`; infinities and NaN through GCC's builtins), a
/// bool as 1 or 0, a list of integers as `{a, b, c}`. A name given twice
/// with the same value is defined once. backend_error
/// `wrapgraph.kernel.bad_define` for a name that is not a C identifier, or
/// one given twice with different values.
[[nodiscard]] inline std::string define_lines(const kernel_values& values) {
  std::string text;
  std::map<std::string_view, const kernel_value*> seen;
  for (const auto& [name, value] : values) {
    if (!detail::is_c_identifier(name))
      throw backend_error("wrapgraph.kernel.bad_define",
                          "cannot #define '" + name + "': not a C identifier");
    const auto [it, inserted] = seen.emplace(name, &value);
    if (!inserted) {
      if (*it->second == value) continue;
      throw backend_error("wrapgraph.kernel.bad_define",
                          "'" + name + "' is given twice with different values (" +
                              detail::value_literal(*it->second) + " and " + detail::value_literal(value) + ")");
    }
    text += "#define " + name + " " + detail::value_literal(value) + "\n";
  }
  return text;
}

/// What a kernel definition compiles with for config `config_index`: its
/// `constants`, then every value of that config (launch settings such as
/// `num_warps` included). With no configs only index 0 is valid (constants
/// only). backend_error `wrapgraph.kernel.bad_config` for an index out of
/// range.
[[nodiscard]] inline kernel_values kernel_defines(const kernel_definition_line& def, std::size_t config_index) {
  const std::size_t count = def.configs.size();
  if (config_index >= (count == 0 ? 1 : count))
    throw backend_error("wrapgraph.kernel.bad_config",
                        "kernel '" + def.kernel + "' has " + std::to_string(count) + " config" +
                            (count == 1 ? "" : "s") + "; config index " + std::to_string(config_index) +
                            " is out of range");
  kernel_values values = def.constants;
  if (count != 0) values.insert(values.end(), def.configs[config_index].begin(), def.configs[config_index].end());
  return values;
}

// ---- the compiler ------------------------------------------------------------

namespace detail {

/// FNV-1a with 128-bit state (prime 2^88 + 0x13b), fed length-prefixed
/// fields so that no two field lists feed the same bytes.
class fnv1a_128 {
 public:
  void bytes(std::string_view data) noexcept {
    for (char c : data) byte(static_cast<unsigned char>(c));
  }
  void field(std::string_view data) noexcept {
    std::uint64_t n = data.size();
    for (int i = 0; i < 8; ++i, n >>= 8) byte(static_cast<unsigned char>(n & 0xff));
    bytes(data);
  }
  [[nodiscard]] std::string hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text(32, '0');
    for (int i = 0; i < 16; ++i) {
      text[static_cast<std::size_t>(15 - i)] = digits[(hi_ >> (4 * i)) & 0xf];
      text[static_cast<std::size_t>(31 - i)] = digits[(lo_ >> (4 * i)) & 0xf];
    }
    return text;
  }

 private:
  void byte(unsigned char c) noexcept {
    lo_ ^= c;
    // (hi, lo) * (2^88 + p) mod 2^128 = (hi, lo) * p + (lo << 88).
    constexpr std::uint64_t p = 0x13b;
    const std::uint64_t t = (lo_ & 0xffffffffU) * p;
    const std::uint64_t u = (lo_ >> 32) * p + (t >> 32);
    const std::uint64_t carry = u >> 32;  // the high 64 bits of lo * p
    hi_ = hi_ * p + carry + (lo_ << 24);
    lo_ = lo_ * p;
  }

  std::uint64_t hi_ = 0x6c62272e07bb0142ULL;
  std::uint64_t lo_ = 0x62b821756295c58dULL;
};

/// A file descriptor closed on destruction.
struct unique_fd {
  int fd = -1;
  unique_fd() = default;
  explicit unique_fd(int f) noexcept : fd(f) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct process_result {
  int status = 0;       ///< as waitpid reports it
  std::string output;   ///< stdout and stderr together, at most `output_limit` bytes
  std::size_t dropped = 0;  ///< bytes of output beyond the limit
};

inline constexpr std::size_t output_limit = 1 << 16;

inline std::string errno_text(int code) { return std::error_code(code, std::generic_category()).message(); }

inline std::string command_text(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& a : argv) {
    if (!text.empty()) text += ' ';
    if (a.empty() || a.find_first_of(" \t\n'\"\\$") != std::string::npos) {
      text += '\'';
      for (char c : a) text += c == '\'' ? std::string("'\\''") : std::string(1, c);
      text += '\'';
    } else {
      text += a;
    }
  }
  return text;
}

/// Runs argv (no shell; argv[0] looked up in PATH unless it holds a '/'),
/// stdin from /dev/null, stdout and stderr into one pipe; waits for it.
/// backend_error `wrapgraph.kernel.compiler_not_found` when it cannot start.
inline process_result run_process(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.front().empty())
    throw backend_error("wrapgraph.kernel.compiler_not_found", "the compiler command is empty");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw backend_error("wrapgraph.kernel.compiler_not_found",
                        "cannot run '" + argv.front() + "': pipe: " + errno_text(errno));
  unique_fd read_end(pipe_fds[0]);
  unique_fd write_end(pipe_fds[1]);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  ::posix_spawn_file_actions_adddup2(&actions, write_end.fd, 2);
  pid_t pid = -1;
  const int spawn_error = ::posix_spawnp(&pid, args.front(), &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (spawn_error != 0)
    throw backend_error("wrapgraph.kernel.compiler_not_found",
                        "cannot run the compiler '" + argv.front() + "': " + errno_text(spawn_error) +
                            " (set WRAPGRAPH_CXX or compiler_options::compiler)");

  process_result result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(read_end.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const std::size_t got = static_cast<std::size_t>(n);
    const std::size_t room = output_limit - std::min(output_limit, result.output.size());
    result.output.append(buffer, std::min(room, got));
    result.dropped += got - std::min(room, got);
  }
  while (::waitpid(pid, &result.status, 0) < 0) {
    if (errno != EINTR) {
      result.status = -1;
      break;
    }
  }
  return result;
}

inline std::string status_text(int status) {
  if (status == -1) return "could not be waited for";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

inline bool succeeded(int status) { return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

/// The compiler's output for an error message: at most `limit` characters,
/// white space trimmed at both ends.
inline std::string trimmed_output(const process_result& r, std::size_t limit = 8000) {
  std::string_view text = r.output;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  const std::size_t more = r.dropped + (text.size() > limit ? text.size() - limit : 0);
  std::string out(text.substr(0, limit));
  if (more != 0) out += "\n... (" + std::to_string(more) + " more bytes of output)";
  return out;
}

/// A name for a `#line` directive: the kernel's name with quotes,
/// backslashes and control characters replaced.
inline std::string line_file_name(std::string_view kernel_name) {
  std::string name;
  for (char c : kernel_name)
    name += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
  return name + ".cpp";
}

/// Creates a unique file `<dir>/<stem>XXXXXX<suffix>` and writes `text`.
inline std::filesystem::path write_unique_file(const std::filesystem::path& dir, const std::string& stem,
                                               const std::string& suffix, std::string_view text) {
  std::string name = (dir / (stem + "XXXXXX" + suffix)).string();
  unique_fd file(::mkstemps(name.data(), static_cast<int>(suffix.size())));
  if (file.fd < 0)
    throw backend_error("wrapgraph.kernel.cache_failed",
                        "cannot create a file in the cache folder '" + dir.string() + "': " + errno_text(errno));
  const std::filesystem::path path = name;
  while (!text.empty()) {
    const ssize_t n = ::write(file.fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int code = errno;
      file.reset();
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
      throw backend_error("wrapgraph.kernel.cache_failed",
                          "cannot write '" + path.string() + "': " + errno_text(code));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return path;
}

}  // namespace detail

/// Compiles `cpp` kernel implementations with the system compiler, caches
/// the objects on disk and keeps the ones it loaded. compile() may be called
/// from several threads at once.
///
/// Errors are backend_error with the ids `wrapgraph.kernel.*`
/// (docs/errors.md).
class kernel_compiler {
 public:
  /// Options from the environment (see compiler_options).
  kernel_compiler() : kernel_compiler(compiler_options{}) {}
  explicit kernel_compiler(compiler_options options) : options_(std::move(options)) {}
  kernel_compiler(const kernel_compiler&) = delete;
  kernel_compiler& operator=(const kernel_compiler&) = delete;

  /// Compiles (or finds in the cache) the `cpp` implementation of `def` with
  /// its constants and config `config_index` as `#define`s (kernel_defines).
  /// backend_error `wrapgraph.kernel.no_implementation` when `def` has no
  /// `cpp` implementation, `wrapgraph.kernel.bad_config` for an index out of
  /// range, and the errors of the overload below.
  compiled_kernel compile(const kernel_definition_line& def, std::size_t config_index) {
    if (!def.implementations.cpp)
      throw backend_error("wrapgraph.kernel.no_implementation",
                          "kernel '" + def.kernel + "' has no cpp implementation");
    return compile(def.kernel, *def.implementations.cpp, kernel_defines(def, config_index));
  }

  /// Compiles `define_lines(defines)`, `#line 1 "<kernel_name>.cpp"` and
  /// `impl.source` into `<cache_dir>/cpu/<key>.so` unless that object
  /// exists, loads it and finds `impl.entry`. backend_error with id
  /// `wrapgraph.kernel.bad_define`, `compiler_not_found`, `cache_failed`,
  /// `compile_failed` (the message names the kernel and holds the compiler's
  /// output), `load_failed` or `missing_entry`.
  compiled_kernel compile(std::string_view kernel_name, const source_implementation& impl,
                          const kernel_values& defines) {
    std::string text = define_lines(defines);
    text += "#line 1 \"" + detail::line_file_name(kernel_name) + "\"\n";
    text += impl.source;
    if (text.back() != '\n') text += '\n';

    const std::filesystem::path dir = prepare();
    const std::string key = cache_key(text);
    const std::filesystem::path object = dir / (key + ".so");

    compiled_kernel kernel;
    kernel.name = std::string(kernel_name);
    kernel.object = object;
    {
      const std::lock_guard lock(mutex_);
      if (auto it = loaded_.find(key); it != loaded_.end()) kernel.library = it->second;
    }
    if (kernel.library) {
      kernel.from_cache = true;
      ++cache_hits_;
    } else {
      std::error_code ec;
      if (std::filesystem::is_regular_file(object, ec)) {
        kernel.from_cache = true;
        ++cache_hits_;
      } else {
        build(kernel.name, text, dir, key, object);
        ++compilations_;
      }
      auto library = std::make_shared<const shared_library>(object);
      const std::lock_guard lock(mutex_);
      kernel.library = loaded_.try_emplace(key, std::move(library)).first->second;
    }

    void* address = kernel.library->find_symbol(impl.entry);
    if (address == nullptr)
      throw backend_error("wrapgraph.kernel.missing_entry",
                          "kernel '" + kernel.name + "': its cpp source defines no entry '" + impl.entry +
                              "' (it must be extern \"C\" void " + impl.entry +
                              "(void**, const int64_t*, const int64_t*))");
    kernel.entry = reinterpret_cast<kernel_entry>(address);
    return kernel;
  }

  /// How many times this compiler ran the compiler on a kernel.
  [[nodiscard]] std::size_t compilations() const noexcept { return compilations_.load(); }
  /// How many compiles ran no compiler: the object was on disk or already
  /// loaded by this kernel_compiler.
  [[nodiscard]] std::size_t cache_hits() const noexcept { return cache_hits_.load(); }
  [[nodiscard]] const compiler_options& options() const noexcept { return options_; }
  /// The folder objects go in: `options().cache_dir / "cpu"`.
  [[nodiscard]] std::filesystem::path object_dir() const { return options_.cache_dir / "cpu"; }

 private:
  /// Creates the object folder and learns the compiler's identity, once.
  std::filesystem::path prepare() {
    const std::filesystem::path dir = object_dir();
    const std::lock_guard lock(mutex_);
    if (identity_) return dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
      throw backend_error("wrapgraph.kernel.cache_failed",
                          "cannot create the kernel cache folder '" + dir.string() + "'" +
                              (ec ? ": " + ec.message() : std::string(": it is not a folder")));
    std::vector<std::string> argv = options_.compiler;
    argv.emplace_back("--version");
    const detail::process_result version = detail::run_process(argv);
    identity_ = version.output + "\n" + std::to_string(version.status);
    return dir;
  }

  std::string cache_key(std::string_view text) const {
    detail::fnv1a_128 hash;
    hash.field("wrapgraph cpu kernel 1");
    hash.field(text);
    hash.field(std::to_string(options_.compiler.size()));
    for (const std::string& word : options_.compiler) hash.field(word);
    hash.field(std::to_string(options_.flags.size()));
    for (const std::string& flag : options_.flags) hash.field(flag);
    {
      const std::lock_guard lock(mutex_);
      hash.field(*identity_);
    }
    return hash.hex();
  }

  /// Compiles `text` to a temporary object in `dir` and renames it to
  /// `object` (and the source next to it, for reading).
  void build(const std::string& name, const std::string& text, const std::filesystem::path& dir,
             const std::string& key, const std::filesystem::path& object) const {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // again, in case someone emptied the cache
    const std::filesystem::path source = detail::write_unique_file(dir, "tmp-" + key + "-", ".cpp", text);
    std::filesystem::path temp_object = source;
    temp_object.replace_extension(".so");
    const auto discard = [&] {
      std::error_code ignored;
      std::filesystem::remove(source, ignored);
      std::filesystem::remove(temp_object, ignored);
    };

    std::vector<std::string> argv = options_.compiler;
    argv.insert(argv.end(), options_.flags.begin(), options_.flags.end());
    argv.push_back(source.string());
    argv.emplace_back("-o");
    argv.push_back(temp_object.string());
    detail::process_result result;
    try {
      result = detail::run_process(argv);
    } catch (...) {
      discard();
      throw;
    }
    if (!detail::succeeded(result.status)) {
      discard();
      throw backend_error("wrapgraph.kernel.compile_failed",
                          "kernel '" + name + "' does not compile: " + detail::command_text(argv) + " " +
                              detail::status_text(result.status) + ":\n" + detail::trimmed_output(result));
    }
    std::filesystem::rename(temp_object, object, ec);
    if (ec) {
      discard();
      throw backend_error("wrapgraph.kernel.cache_failed",
                          "cannot move the object of kernel '" + name + "' to '" + object.string() +
                              "': " + ec.message());
    }
    std::filesystem::path kept_source = object;
    kept_source.replace_extension(".cpp");
    std::filesystem::rename(source, kept_source, ec);
    if (ec) discard();
  }

  compiler_options options_;
  mutable std::mutex mutex_;
  std::optional<std::string> identity_;
  std::unordered_map<std::string, std::shared_ptr<const shared_library>> loaded_;
  std::atomic<std::size_t> compilations_{0};
  std::atomic<std::size_t> cache_hits_{0};
};

}  // namespace wrapgraph::backend::cpu
