# The admin API under /admin/: health, seeding, key rotation, faults, token
# minting, settings and the request log.  Tests and the demo use it; it has no
# authentication, so the simulator must never be reachable from outside.
package AzureSim::Admin;
use Mojo::Base -strict, -signatures;

use AzureSim::Demo;
use AzureSim::State;
use AzureSim::Util qw(now_s random_token);
use Mojo::JSON qw(decode_json);

sub routes ($app, $r) {
    my $a = $r->any('/admin');
    $a->get('/health' => sub ($c) {
        $c->render(json => { status => 'ok', url => $c->app->public_url });
    });
    $a->get('/state' => sub ($c) { $c->render(json => $c->app->state->dump) });
    $a->post('/seed' => sub ($c) { guarded($c, sub ($in) { $c->app->state->load_seed($in); {} }) });
    $a->post('/reset' => \&reset_state);

    $a->post('/tenants' => sub ($c) { guarded($c, sub ($in) { summary($c->app->state->add_tenant($in)) }) });
    my %adders = (
        users => 'add_user', applications => 'add_app', subscriptions => 'add_subscription',
        'autopilot-devices' => 'add_autopilot_device', 'managed-devices' => 'add_managed_device',
        'cloud-pcs' => 'add_cloud_pc', vaults => 'add_vault',
        'imported-device-identities' => 'add_imported_identity',
    );
    for my $what (sort keys %adders) {
        my $method = $adders{$what};
        $a->post("/tenants/#tid/$what" => sub ($c) {
            guarded($c, sub ($in) { summary($c->app->state->$method($c->stash('tid'), $in)) });
        });
    }
    $a->post('/tenants/#tid/consents' => sub ($c) {
        guarded($c, sub ($in) {
            my $t = $c->app->state->need_tenant($c->stash('tid'));
            $t->{consented}{ lc($in->{appId} // '') } = 1;
            {};
        });
    });
    $a->delete('/tenants/#tid/managed-devices/#id' => sub ($c) {
        guarded($c, sub ($in) {
            my $t = $c->app->state->need_tenant($c->stash('tid'));
            delete $t->{managed}{ lc $c->stash('id') } or die { status => 404, message => 'no such device' };
            {};
        });
    });
    $a->delete('/tenants/#tid/autopilot-devices/#id' => sub ($c) {
        guarded($c, sub ($in) {
            my $t = $c->app->state->need_tenant($c->stash('tid'));
            my $n = @{ $t->{autopilot} };
            @{ $t->{autopilot} } = grep { $_->{id} ne lc $c->stash('id') } @{ $t->{autopilot} };
            die { status => 404, message => 'no such device' } if $n == @{ $t->{autopilot} };
            {};
        });
    });
    $a->post('/applications/#appid/secrets' => sub ($c) {
        guarded($c, sub ($in) {
            my $s = $c->app->state->add_app_secret($c->stash('appid'), $in);
            return { keyId => $s->{keyId}, endDateTime => $s->{endDateTime} };
        });
    });
    $a->delete('/applications/#appid/secrets/#keyid' => sub ($c) {
        guarded($c, sub ($in) {
            my $app = $c->app->state->apps->{ lc $c->stash('appid') }
                or die { status => 404, message => 'no such application' };
            @{ $app->{passwordCredentials} } =
                grep { $_->{keyId} ne lc $c->stash('keyid') } @{ $app->{passwordCredentials} };
            {};
        });
    });
    $a->get('/vaults/#name/secrets' => \&vault_peek);

    $a->get('/keys' => sub ($c) {
        $c->render(json => { signing => $c->app->signing->signing_kid,
            kids => [map { $_->{kid} } @{ $c->app->signing->keys }] });
    });
    $a->post('/keys/rotate' => sub ($c) {
        guarded($c, sub ($in) {
            my $kid = $c->app->signing->rotate($in->{drop_old});
            return { signing => $kid, kids => [map { $_->{kid} } @{ $c->app->signing->keys }] };
        });
    });
    $a->post('/keys' => sub ($c) {
        my $kid = $c->app->signing->add;
        $c->render(status => 201, json => key_summary($c, $kid));
    });
    $a->post('/keys/#kid/sign' => sub ($c) {
        return $c->render(status => 404, json => { error => 'no such key' })
            unless $c->app->signing->promote($c->stash('kid'));
        $c->render(json => key_summary($c));
    });
    $a->post('/keys/drop-old' => sub ($c) {
        $c->app->signing->drop_old;
        $c->render(json => key_summary($c));
    });
    $a->post('/tokens' => \&mint_token);

    $a->get('/settings' => sub ($c) {
        $c->render(json => { %AzureSim::DEFAULT_SETTINGS, %{ $c->app->state->settings } });
    });
    $a->put('/settings' => sub ($c) {
        guarded($c, sub ($in) {
            for my $k (keys %$in) {
                die { status => 400, message => "unknown setting '$k'" }
                    unless exists $AzureSim::DEFAULT_SETTINGS{$k};
                $c->app->state->settings->{$k} = $in->{$k};
            }
            return { %AzureSim::DEFAULT_SETTINGS, %{ $c->app->state->settings } };
        });
    });

    $a->get('/faults' => sub ($c) { $c->render(json => $c->app->faults->describe) });
    $a->post('/faults' => sub ($c) {
        my $in = eval { decode_json($c->req->body) };
        my $f = eval { $c->app->faults->add($in) };
        return $c->render(status => 400, json => { error => ($@ =~ s/\n\z//r) }) unless $f;
        return $c->render(status => 201, json => { id => $f->{id} });
    });
    $a->delete('/faults' => sub ($c) { $c->app->faults->clear; $c->rendered(204) });
    $a->delete('/faults/:id' => sub ($c) {
        $c->app->faults->remove($c->stash('id')) ? $c->rendered(204)
            : $c->render(status => 404, json => { error => 'no such fault' });
    });

    $a->get('/requests' => sub ($c) { $c->render(json => $c->app->requests) });
    $a->delete('/requests' => sub ($c) { @{ $c->app->requests } = (); $c->rendered(204) });
    $a->any('/*rest' => { rest => '' } => sub ($c) {
        $c->render(status => 404, json => { error => 'no such admin endpoint' });
    });
}

# Runs an admin change with the JSON body; State's { status, message }
# exceptions become the answer.
sub guarded ($c, $code) {
    my $body = length $c->req->body ? eval { decode_json($c->req->body) } : {};
    return $c->render(status => 400, json => { error => 'the body must be a JSON object' })
        unless ref $body eq 'HASH';
    my $out = eval { $code->($body) };
    if (my $e = $@) {
        return $c->render(status => $e->{status}, json => { error => $e->{message} }) if ref $e eq 'HASH';
        die $e;
    }
    return $c->render(status => $c->req->method eq 'POST' ? 201 : 200, json => $out // {});
}

sub key_summary ($c, $kid = undef) {
    my $signing = $c->app->signing;
    return { (defined $kid ? (kid => $kid) : ()), signing => $signing->signing_kid,
             kids => [map { $_->{kid} } @{ $signing->keys }] };
}

sub summary ($obj) {
    return { map { ($_ => $obj->{$_}) } grep { exists $obj->{$_} }
        qw(id oid appId subscriptionId name serialNumber userPrincipalName) };
}

sub reset_state ($c) {
    my $in = length $c->req->body ? eval { decode_json($c->req->body) } // {} : {};
    my $app = $c->app;
    $app->state(AzureSim::State->new);
    AzureSim::Demo::seed($app->state) if $in->{demo};
    $app->faults->clear;
    @{ $app->requests } = ();
    return $c->render(json => {});
}

sub vault_peek ($c) {
    my $v = $c->app->state->vaults->{ lc $c->stash('name') }
        or return $c->render(status => 404, json => { error => 'no such vault' });
    my %out;
    for my $name (keys %{ $v->{secrets} }) {
        my $latest = $v->{secrets}{$name}[-1];
        $out{$name} = { value => $latest->{value}, versions => scalar @{ $v->{secrets}{$name} },
            attributes => $latest->{attributes}, contentType => $latest->{contentType},
            tags => $latest->{tags} };
    }
    return $c->render(json => { secrets => \%out, deleted => [sort keys %{ $v->{deleted} }] });
}

# Any token the simulated Entra could sign, for tests of token validation:
# {"tid":..., "ver":"2.0", "expires_in":-60, "claims":{...}}.  iss follows
# tid and ver unless the claims set it.
sub mint_token ($c) {
    my $in = eval { decode_json($c->req->body) };
    return $c->render(status => 400, json => { error => 'the body must be a JSON object' })
        unless ref $in eq 'HASH';
    my $tid = $in->{tid} // $in->{claims}{tid}
        // return $c->render(status => 400, json => { error => 'tid is required' });
    my $ver = $in->{ver} // '2.0';
    my $now = now_s();
    my %claims = (
        tid => $tid, ver => $ver, iss => $c->app->issuer_for($tid, $ver),
        iat => $now, nbf => $now, exp => $now + ($in->{expires_in} // 3600),
        uti => random_token(16),
        %{ $in->{claims} // {} },
    );
    return $c->render(status => 201, json => { token => $c->app->signing->mint(\%claims,
        ($in->{header} ? (header => $in->{header}) : ())), claims => \%claims });
}

1;
