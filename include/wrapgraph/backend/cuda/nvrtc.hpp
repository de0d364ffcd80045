#pragma once
/// Compiling `cuda` kernel implementations with NVRTC for the device's
/// architecture, one binary per config (its parameters as `#define`s),
/// cached on disk by a hash of everything that went into it.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <wrapgraph/backend/cpu/compiler.hpp>
#include <wrapgraph/backend/cuda/api.hpp>
#include <wrapgraph/lines/lines.hpp>

namespace wrapgraph::backend::cuda {

/// How NVRTC compiles `cuda` kernels, and where binaries are cached.
struct nvrtc_options {
  /// Options after the architecture; `WRAPGRAPH_NVRTC_FLAGS` (words) is
  /// appended. Fast math is off, as in PyTorch's own kernels.
  std::vector<std::string> flags = [] {
    std::vector<std::string> f{"-std=c++17", "-default-device"};
    for (std::string& w : cpu::detail::split_words(cpu::detail::environment_value("WRAPGRAPH_NVRTC_FLAGS")))
      f.push_back(std::move(w));
    return f;
  }();
  /// The cache's root, shared with the CPU compiler; binaries go in its
  /// `cuda` subfolder.
  std::filesystem::path cache_dir = cpu::compiler_options::default_cache_dir();
};

/// A compiled kernel binary: a cubin, or PTX where NVRTC cannot target the
/// device's architecture itself (the driver then compiles it).
struct compiled_binary {
  std::string name;   ///< the kernel's name
  std::string image;  ///< the cubin, or NUL-terminated PTX
  bool is_ptx = false;
  bool from_cache = false;  ///< true when NVRTC did not run
  std::filesystem::path file;  ///< the cached binary
};

/// Text that every `cuda` source is compiled with, before the defines: the
/// fixed-width integer types, since NVRTC has no standard headers.
inline constexpr std::string_view cuda_prelude =
    "typedef signed char int8_t;\ntypedef short int16_t;\ntypedef int int32_t;\ntypedef long long int64_t;\n"
    "typedef unsigned char uint8_t;\ntypedef unsigned short uint16_t;\ntypedef unsigned int uint32_t;\n"
    "typedef unsigned long long uint64_t;\n";

/// Compiles CUDA C++ with NVRTC for one architecture, with a disk cache.
/// Thread-safe.
class nvrtc_compiler {
 public:
  /// A compiler for compute capability `arch` (e.g. 90).
  explicit nvrtc_compiler(int arch, nvrtc_options options = {}) : arch_(arch), options_(std::move(options)) {}

  /// The `cuda` implementation of `def` with config `config`'s defines:
  /// `wrapgraph.kernel.no_implementation` without one, otherwise as below.
  compiled_binary compile(const kernel_definition_line& def, std::size_t config) {
    const kernel_values defines = cpu::kernel_defines(def, config);
    if (!def.implementations.cuda)
      throw backend_error("wrapgraph.kernel.no_implementation",
                          "kernel '" + def.kernel + "' has no cuda or cubin implementation to run on a GPU");
    return compile(def.kernel, def.implementations.cuda->source, defines);
  }

  /// Compiles `source` (kernel `name`, for messages and the log) with
  /// `defines`, or finds it in the cache. cuda_error
  /// `wrapgraph.cuda.compile` with NVRTC's log when it does not compile;
  /// `wrapgraph.kernel.bad_define` for a define that is not an identifier;
  /// `wrapgraph.kernel.cache_failed` when the cache cannot be written;
  /// `wrapgraph.cuda.unavailable` without NVRTC.
  compiled_binary compile(std::string_view name, std::string_view source, const kernel_values& defines = {}) {
    std::string text(cuda_prelude);
    text += cpu::define_lines(defines);
    text += "#line 1 \"" + file_name(name) + "\"\n";
    text += source;
    if (text.empty() || text.back() != '\n') text += '\n';

    compiled_binary out;
    out.name = std::string(name);
    const std::string key = cache_key(text);
    const std::filesystem::path dir = options_.cache_dir / "cuda";
    for (const bool ptx : {false, true}) {
      const std::filesystem::path file = dir / (key + (ptx ? ".ptx" : ".cubin"));
      std::error_code ec;
      if (!std::filesystem::is_regular_file(file, ec)) continue;
      std::ifstream in(file, std::ios::binary);
      out.image.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (!in.bad() && !out.image.empty()) {
        if (ptx) out.image.push_back('\0');
        out.is_ptx = ptx;
        out.from_cache = true;
        out.file = file;
        ++cache_hits_;
        return out;
      }
    }
    build(out, text);
    ++compilations_;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
      throw backend_error("wrapgraph.kernel.cache_failed", "cannot create the kernel cache folder '" + dir.string() +
                                                               "'" + (ec ? ": " + ec.message() : std::string()));
    const std::string suffix = out.is_ptx ? ".ptx" : ".cubin";
    const std::string_view bytes(out.image.data(), out.image.size() - (out.is_ptx ? 1 : 0));
    const std::filesystem::path tmp = cpu::detail::write_unique_file(dir, key + ".tmp", suffix, bytes);
    out.file = dir / (key + suffix);
    std::filesystem::rename(tmp, out.file, ec);  // atomic: readers see all or nothing
    if (ec) {
      std::filesystem::remove(tmp, ec);
      throw backend_error("wrapgraph.kernel.cache_failed", "cannot write '" + out.file.string() + "'");
    }
    return out;
  }

  /// The compute capability binaries are made for.
  [[nodiscard]] int arch() const noexcept { return arch_; }
  [[nodiscard]] const nvrtc_options& options() const noexcept { return options_; }
  /// How many times NVRTC ran.
  [[nodiscard]] std::size_t compilations() const noexcept { return compilations_.load(); }
  /// How many compiles NVRTC did not run for: the binary was cached.
  [[nodiscard]] std::size_t cache_hits() const noexcept { return cache_hits_.load(); }

 private:
  static std::string file_name(std::string_view name) {
    std::string f;
    for (char c : name) f += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
    return f + ".cu";
  }

  // The architecture NVRTC compiles for: the device's when NVRTC knows it
  // (a cubin), else the newest it knows below it (PTX, for the driver).
  std::pair<int, bool> target() {
    std::call_once(target_once_, [&] {
      const api::nvrtc_api& n = api::nvrtc();
      int count = 0;
      check_nvrtc(n.nvrtcGetNumSupportedArchs(&count), "asking NVRTC for its architectures");
      std::vector<int> archs(static_cast<std::size_t>(std::max(count, 0)));
      if (count > 0) check_nvrtc(n.nvrtcGetSupportedArchs(archs.data()), "asking NVRTC for its architectures");
      if (std::find(archs.begin(), archs.end(), arch_) != archs.end()) {
        target_ = {arch_, false};
        return;
      }
      int best = 0;
      for (int a : archs)
        if (a <= arch_) best = std::max(best, a);
      if (best == 0)
        throw cuda_error("wrapgraph.cuda.compile", "NVRTC cannot compile for compute capability " +
                                                       std::to_string(arch_) + " or any below it");
      target_ = {best, true};
    });
    return target_;
  }

  std::string cache_key(const std::string& text) {
    const auto [arch, ptx] = target();
    int major = 0, minor = 0;
    check_nvrtc(api::nvrtc().nvrtcVersion(&major, &minor), "asking NVRTC for its version");
    cpu::detail::fnv1a_128 hash;
    hash.field("nvrtc " + std::to_string(major) + "." + std::to_string(minor));
    hash.field(std::to_string(arch) + (ptx ? " ptx" : " cubin"));
    for (const std::string& f : options_.flags) hash.field(f);
    hash.field(text);
    return hash.hex();
  }

  void build(compiled_binary& out, const std::string& text) {
    const api::nvrtc_api& n = api::nvrtc();
    const auto [arch, ptx] = target();
    api::nvrtcProgram program = nullptr;
    check_nvrtc(n.nvrtcCreateProgram(&program, text.c_str(), file_name(out.name).c_str(), 0, nullptr, nullptr),
                "creating an NVRTC program for kernel '" + out.name + "'");
    struct destroy {
      api::nvrtcProgram& p;
      ~destroy() { (void)api::nvrtc().nvrtcDestroyProgram(&p); }
    } guard{program};
    std::vector<std::string> args{(ptx ? "--gpu-architecture=compute_" : "--gpu-architecture=sm_") +
                                  std::to_string(arch)};
    args.insert(args.end(), options_.flags.begin(), options_.flags.end());
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    const api::nvrtcResult r = n.nvrtcCompileProgram(program, static_cast<int>(argv.size()), argv.data());
    if (r != api::NVRTC_SUCCESS) {
      std::size_t size = 0;
      std::string log;
      if (n.nvrtcGetProgramLogSize(program, &size) == api::NVRTC_SUCCESS && size > 1) {
        log.resize(size);
        if (n.nvrtcGetProgramLog(program, log.data()) != api::NVRTC_SUCCESS) log.clear();
        while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
      }
      const char* name = n.nvrtcGetErrorString(r);
      throw cuda_error("wrapgraph.cuda.compile", "kernel '" + out.name + "' does not compile for sm_" +
                                                     std::to_string(arch) + " (" + (name ? name : "NVRTC error") +
                                                     "):\n" + log,
                       name ? name : std::to_string(r));
    }
    std::size_t size = 0;
    if (ptx) {
      check_nvrtc(n.nvrtcGetPTXSize(program, &size), "reading the PTX of kernel '" + out.name + "'");
      out.image.resize(size);
      check_nvrtc(n.nvrtcGetPTX(program, out.image.data()), "reading the PTX of kernel '" + out.name + "'");
      if (out.image.empty() || out.image.back() != '\0') out.image.push_back('\0');
    } else {
      check_nvrtc(n.nvrtcGetCUBINSize(program, &size), "reading the cubin of kernel '" + out.name + "'");
      out.image.resize(size);
      check_nvrtc(n.nvrtcGetCUBIN(program, out.image.data()), "reading the cubin of kernel '" + out.name + "'");
    }
    out.is_ptx = ptx;
  }

  int arch_;
  nvrtc_options options_;
  std::once_flag target_once_;
  std::pair<int, bool> target_{0, false};
  std::atomic<std::size_t> compilations_{0}, cache_hits_{0};
};

}  // namespace wrapgraph::backend::cuda
