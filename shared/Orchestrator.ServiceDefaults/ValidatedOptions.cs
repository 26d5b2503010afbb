using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Orchestrator.ServiceDefaults;

/// <summary>
/// Options read from flat environment-style keys (see <see cref="ConfigurationKeyNameAttribute"/>) that check
/// themselves. Each problem is one sentence that names the setting, never its value: values may be secrets.
/// </summary>
public interface IValidatedOptions
{
    IEnumerable<string> Validate();
}

public static class ValidatedOptionsExtensions
{
    /// <summary>Binds <typeparamref name="T"/> from the configuration root and validates it before the host starts.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration)
        where T : class, IValidatedOptions
    {
        services.AddSingleton<IValidateOptions<T>, Validator<T>>();
        return services.AddOptions<T>().Bind(configuration).ValidateOnStart();
    }

    private sealed class Validator<T> : IValidateOptions<T> where T : class, IValidatedOptions
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var failures = options.Validate().ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

/// <summary>Checks shared by options classes.</summary>
public static class Setting
{
    public static bool IsAbsoluteUri(string? value, params string[] schemes) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && !string.IsNullOrEmpty(uri.Host)
        && (schemes.Length == 0 || schemes.Contains(uri.Scheme, StringComparer.OrdinalIgnoreCase));
}
