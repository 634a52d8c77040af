# Simulated Azure Key Vault secrets (data plane): the 401 challenge, set/get/
# list/versions/update, soft delete with recover and purge, and Key Vault's
# error bodies.  A vault is chosen by the /vault/{name} path prefix, by a
# "{name}.vault.*" Host, or is the default vault served at the origin's root.
package AzureSim::KeyVault;
use Mojo::Base -strict, -signatures;

use AzureSim::Entra;
use AzureSim::Util qw(hex_id now_s b64url b64url_decode);
use Mojo::JSON qw(decode_json true false);

my $NAME = qr/[0-9a-zA-Z-]{1,127}/;
my $RECOVERABLE_DAYS = 90;

my @ROUTES = (
    [GET    => qr{\A/secrets/?\z},                       \&list_secrets],
    [PUT    => qr{\A/secrets/([^/]+)/?\z},               \&set_secret],
    [GET    => qr{\A/secrets/([^/]+)/versions/?\z},      \&list_versions],
    [GET    => qr{\A/secrets/([^/]+)(?:/([^/]*))?/?\z},  \&get_secret],
    [PATCH  => qr{\A/secrets/([^/]+)/([^/]+)/?\z},       \&update_secret],
    [DELETE => qr{\A/secrets/([^/]+)/?\z},               \&delete_secret],
    [GET    => qr{\A/deletedsecrets/?\z},                \&list_deleted],
    [GET    => qr{\A/deletedsecrets/([^/]+)/?\z},        \&get_deleted],
    [DELETE => qr{\A/deletedsecrets/([^/]+)/?\z},        \&purge_deleted],
    [POST   => qr{\A/deletedsecrets/([^/]+)/recover/?\z}, \&recover_deleted],
);

sub routes ($app, $r) {
    $r->any('/vault/:vault/*kvpath' => \&dispatch);
    for my $top (qw(secrets deletedsecrets)) {
        $r->any("/$top" => \&dispatch);
        $r->any("/$top/*rest" => \&dispatch);
    }
}

sub kv_error ($c, $status, $code, $message, $inner = undef) {
    return $c->render(status => $status, json => { error => { code => $code, message => $message,
        ($inner ? (innererror => { code => $inner }) : ()) } });
}

sub select_vault ($c) {
    my $state = $c->app->state;
    my $name = $c->stash('vault');
    my $host = $c->req->headers->host // '';
    my $base;
    if (defined $name) {
        $base = $c->app->public_url . "/vault/$name";
    } elsif ($host =~ /^([a-z0-9-]+)\.vault\./i) {
        ($name, $base) = ($1, "https://$host");
    } else {
        $name = $c->app->setting('default_vault') // (sort keys %{ $state->vaults })[0];
        $base = "https://$host";
    }
    my $vault = defined $name ? $state->vaults->{ lc $name } : undef;
    return ($vault, $base);
}

sub dispatch ($c) {
    my ($vault, $base) = select_vault($c);
    $c->res->headers->header('x-ms-keyvault-service-version' => '1.9.2179.1');
    $c->res->headers->header('x-ms-request-id' => AzureSim::Util::new_uuid());
    return kv_error($c, 404, 'VaultNotFound', 'The simulator has no such vault.') unless $vault;
    $c->stash(kv => $vault, kv_base => $base);
    check_auth($c, $vault) or return;

    my $api = $c->param('api-version') // '';
    return kv_error($c, 400, 'BadParameter', 'The api-version parameter is missing.') unless length $api;
    return kv_error($c, 400, 'BadParameter', "The specified version ($api) is not recognized. "
        . 'Consider using the latest supported version (2025-07-01).')
        unless $api =~ /\A(?:7\.\d+|\d{4}-\d{2}-\d{2})(?:-preview(?:\.\d+)?)?\z/;

    my $path = defined $c->stash('kvpath') ? '/' . $c->stash('kvpath') : $c->req->url->path->to_string;
    my $method = $c->req->method;
    my $seen = 0;
    for my $route (@ROUTES) {
        my ($m, $re, $handler) = @$route;
        next unless $path =~ $re;
        my @cap = @{^CAPTURE};
        $seen = 1;
        next unless $m eq $method;
        return $handler->($c, $vault, grep { defined } @cap);
    }
    return kv_error($c, 405, 'BadParameter', "The method $method is not allowed here.") if $seen;
    return kv_error($c, 404, 'NotFound', 'The requested resource was not found.');
}

# Missing token: the challenge naming the vault's tenant and the resource.
sub check_auth ($c, $vault) {
    my $r = $c->app->check_bearer($c, AzureSim::Entra::audiences('keyvault'));
    return 1 unless $r->{error} || $r->{claims}{tid} ne $vault->{tenant};
    $c->res->headers->www_authenticate(qq{Bearer authorization="} . $c->app->public_url
        . qq{/$vault->{tenant}", resource="https://vault.azure.net"});
    my $e = $r->{error} // 'tenant';
    my $msg = $e eq 'missing' ? 'AKV10000: Request is missing a Bearer or PoP token.'
        : $e eq 'expired' ? 'AKV10013: Token is expired.'
        : $e eq 'audience' ? 'AKV10022: Invalid audience. Expected https://vault.azure.net, found: '
            . ($r->{claims}{aud} // '') . '.'
        : $e eq 'tenant' ? 'AKV10032: Invalid issuer. Expected one of '
            . $c->app->issuer_for($vault->{tenant}, '1.0') . ', found '
            . ($r->{claims}{iss} // '') . '.'
        : 'AKV10000: Request is missing a Bearer or PoP token.';
    $msg = 'AKV10046: Token signature validation failed.' if $e eq 'invalid';
    kv_error($c, 401, 'Unauthorized', $msg);
    return 0;
}

sub not_found ($c, $what) {
    return kv_error($c, 404, 'SecretNotFound', "A secret with (name/id) $what was not found in "
        . 'this key vault. If you recently deleted this secret you may be able to recover it '
        . 'using the correct recovery command. For help resolving this issue, please see '
        . 'https://go.microsoft.com/fwlink/?linkid=2125182');
}

sub bad_name ($c, $name) {
    return kv_error($c, 400, 'BadParameter', "The request URI contains an invalid name: $name");
}

sub body ($c) {
    my $b = eval { decode_json($c->req->body) };
    return $b if ref $b eq 'HASH';
    kv_error($c, 400, 'BadParameter', 'The request body is not valid JSON.');
    return undef;
}

sub attributes ($v) {
    my $a = $v->{attributes};
    return { enabled => $a->{enabled} ? true : false,
        (defined $a->{nbf} ? (nbf => 0 + $a->{nbf}) : ()),
        (defined $a->{exp} ? (exp => 0 + $a->{exp}) : ()),
        created => $a->{created}, updated => $a->{updated},
        recoveryLevel => 'Recoverable+Purgeable', recoverableDays => $RECOVERABLE_DAYS };
}

sub bundle ($c, $name, $v, $with_value) {
    my $base = $c->stash('kv_base');
    return {
        ($with_value ? (value => $v->{value}) : ()),
        id => "$base/secrets/$name/$v->{version}",
        (defined $v->{contentType} ? (contentType => $v->{contentType}) : ()),
        (defined $v->{tags} ? (tags => $v->{tags}) : ()),
        attributes => attributes($v),
    };
}

sub item ($c, $name, $v, $with_version) {
    my $base = $c->stash('kv_base');
    return {
        id => "$base/secrets/$name" . ($with_version ? "/$v->{version}" : ''),
        (defined $v->{contentType} ? (contentType => $v->{contentType}) : ()),
        (defined $v->{tags} ? (tags => $v->{tags}) : ()),
        attributes => attributes($v),
    };
}

sub deleted_extra ($c, $name, $d) {
    return (recoveryId => $c->stash('kv_base') . "/deletedsecrets/$name",
        deletedDate => $d->{deletedDate}, scheduledPurgeDate => $d->{scheduledPurgeDate});
}

sub find_name ($hash, $name) {
    my ($k) = grep { lc $_ eq lc $name } keys %$hash;
    return $k;
}

sub latest ($versions) { $versions->[-1] }

sub set_secret ($c, $vault, $name) {
    return bad_name($c, $name) unless $name =~ /\A$NAME\z/;
    my $in = body($c) // return;
    return kv_error($c, 400, 'BadParameter', 'Property value is required.')
        unless defined $in->{value} && !ref $in->{value};
    return kv_error($c, 400, 'BadParameter', 'The secret value exceeds the maximum size of 25 KB.')
        if length($in->{value}) > 25 * 1024;
    if (my $k = find_name($vault->{deleted}, $name)) {
        return kv_error($c, 409, 'Conflict', "Secret $k is currently in a deleted but recoverable "
            . 'state, and its name cannot be reused; in this state, the secret can only be '
            . 'recovered or purged.', 'ObjectIsDeletedButRecoverable');
    }
    my $key = find_name($vault->{secrets}, $name) // $name;
    my $now = now_s();
    my $a = $in->{attributes} // {};
    my $v = {
        version => hex_id(16), value => $in->{value}, contentType => $in->{contentType},
        tags => $in->{tags},
        attributes => { enabled => exists $a->{enabled} ? ($a->{enabled} ? 1 : 0) : 1,
            nbf => $a->{nbf}, exp => $a->{exp}, created => $now, updated => $now },
    };
    push @{ $vault->{secrets}{$key} }, $v;
    return $c->render(json => bundle($c, $key, $v, 1));
}

sub get_secret ($c, $vault, $name, $version = '') {
    my $key = find_name($vault->{secrets}, $name) // return not_found($c, $name);
    my $versions = $vault->{secrets}{$key};
    my $v = length $version ? (grep { $_->{version} eq lc $version } @$versions)[0] : latest($versions);
    return not_found($c, "$name/$version") unless $v;
    return kv_error($c, 403, 'Forbidden', 'Operation get is not allowed on a disabled secret.',
        'SecretDisabled') unless $v->{attributes}{enabled};
    return $c->render(json => bundle($c, $key, $v, 1));
}

sub update_secret ($c, $vault, $name, $version) {
    my $key = find_name($vault->{secrets}, $name) // return not_found($c, $name);
    my ($v) = grep { $_->{version} eq lc $version } @{ $vault->{secrets}{$key} };
    return not_found($c, "$name/$version") unless $v;
    my $in = body($c) // return;
    my $a = $in->{attributes} // {};
    for my $k (qw(nbf exp)) { $v->{attributes}{$k} = $a->{$k} if exists $a->{$k} }
    $v->{attributes}{enabled} = $a->{enabled} ? 1 : 0 if exists $a->{enabled};
    $v->{tags} = $in->{tags} if exists $in->{tags};
    $v->{contentType} = $in->{contentType} if exists $in->{contentType};
    $v->{attributes}{updated} = now_s();
    return $c->render(json => bundle($c, $key, $v, 0));
}

# maxresults 1..25 and an opaque $skiptoken, answered with nextLink (null on
# the last page).
sub page ($c, $items, $path) {
    my $max = $c->param('maxresults') // 25;
    return kv_error($c, 400, 'BadParameter', "The value '$max' is not valid for maxresults. "
        . 'Valid values are 1 to 25.') unless $max =~ /\A\d+\z/ && $max >= 1 && $max <= 25;
    my $skip = 0;
    if (defined(my $tok = $c->param('$skiptoken'))) {
        ($skip) = (b64url_decode($tok) // '') =~ /\Askip:(\d+)\z/;
        return kv_error($c, 400, 'BadParameter', 'The $skiptoken is not valid.') unless defined $skip;
    }
    my @page = grep { defined } @$items[$skip .. $skip + $max - 1];
    my $next = undef;
    if ($skip + $max < @$items) {
        $next = $c->stash('kv_base') . "$path?api-version=" . $c->param('api-version')
            . '&$skiptoken=' . b64url('skip:' . ($skip + $max)) . "&maxresults=$max";
    }
    return $c->render(json => { value => \@page, nextLink => $next });
}

sub list_secrets ($c, $vault) {
    my $s = $vault->{secrets};
    return page($c, [map { item($c, $_, latest($s->{$_}), 0) } sort keys %$s], '/secrets');
}

sub list_versions ($c, $vault, $name) {
    my $key = find_name($vault->{secrets}, $name) // return not_found($c, $name);
    return page($c, [map { item($c, $key, $_, 1) } @{ $vault->{secrets}{$key} }],
        "/secrets/$key/versions");
}

sub delete_secret ($c, $vault, $name) {
    my $key = find_name($vault->{secrets}, $name) // return not_found($c, $name);
    my $now = now_s();
    my $d = $vault->{deleted}{$key} = { versions => delete $vault->{secrets}{$key},
        deletedDate => $now, scheduledPurgeDate => $now + $RECOVERABLE_DAYS * 86400 };
    return $c->render(json => { %{ bundle($c, $key, latest($d->{versions}), 0) },
        deleted_extra($c, $key, $d) });
}

sub list_deleted ($c, $vault) {
    my $del = $vault->{deleted};
    return page($c, [map { +{ %{ item($c, $_, latest($del->{$_}{versions}), 0) },
        deleted_extra($c, $_, $del->{$_}) } } sort keys %$del], '/deletedsecrets');
}

sub get_deleted ($c, $vault, $name) {
    my $key = find_name($vault->{deleted}, $name) // return not_found($c, $name);
    my $d = $vault->{deleted}{$key};
    return $c->render(json => { %{ bundle($c, $key, latest($d->{versions}), 0) },
        deleted_extra($c, $key, $d) });
}

sub purge_deleted ($c, $vault, $name) {
    my $key = find_name($vault->{deleted}, $name) // return not_found($c, $name);
    delete $vault->{deleted}{$key};
    return $c->rendered(204);
}

sub recover_deleted ($c, $vault, $name) {
    my $key = find_name($vault->{deleted}, $name) // return not_found($c, $name);
    my $d = delete $vault->{deleted}{$key};
    $vault->{secrets}{$key} = $d->{versions};
    return $c->render(json => bundle($c, $key, latest($d->{versions}), 0));
}

1;
