# What ARM does with a deployment template before and while it deploys it:
# parameters and variables resolved, template expressions evaluated (the
# functions VM templates use), dependsOn checked, and the Compute rules real
# Azure enforces (regions, VM sizes, images, marketplace plans, computer
# names).  Errors are returned as ARM error objects, never thrown at callers.
package AzureSim::Template;
use Mojo::Base -strict, -signatures;

use Digest::SHA qw(sha256 sha1_hex);
use Mojo::JSON qw(encode_json true false);

our @REGIONS = qw(australiaeast brazilsouth canadacentral centralindia centralus
    eastasia eastus eastus2 francecentral germanywestcentral japaneast
    northeurope norwayeast southcentralus swedencentral switzerlandnorth uksouth
    westeurope westus westus2 westus3);
our %REGION = map { $_ => 1 } @REGIONS;

our %VM_SIZES = map { $_ => 1 } qw(Standard_B1s Standard_B1ms Standard_B2s
    Standard_B2ms Standard_B4ms Standard_DS1_v2 Standard_DS2_v2 Standard_D2s_v3
    Standard_D4s_v3 Standard_D8s_v3 Standard_D2s_v5 Standard_D4s_v5
    Standard_D2as_v5 Standard_D4as_v5 Standard_E2s_v5 Standard_E4s_v5
    Standard_F2s_v2 Standard_F4s_v2);

our $CIS = 'center-for-internet-security-inc';

# publisher => offer => sku => { os, gen, versions }.  The CIS offers are the
# ones the reference lists; marketplace images need a plan and accepted terms.
our %IMAGES = (
    $CIS => {
        'cis-ubuntu-linux-2204-l1' => {
            'cis-ubuntu-linux-2204-l1'      => { os => 'Linux', gen => 'V1' },
            'cis-ubuntu-linux-2204-l1-gen2' => { os => 'Linux', gen => 'V2' },
        },
        'cis-ubuntu-linux-2004-l1' => { 'cis-ubuntu2004-l1' => { os => 'Linux', gen => 'V1' } },
        'cis-ubuntu' => {
            'cis-ubuntulinux2204-l1-gen2' => { os => 'Linux', gen => 'V2' },
            'cis-ubuntulinux2004-l1-gen1' => { os => 'Linux', gen => 'V1' },
        },
        'cis-rhel9-l1' => {
            'cis-rhel9-l1'      => { os => 'Linux', gen => 'V1' },
            'cis-rhel9-l1-gen2' => { os => 'Linux', gen => 'V2' },
        },
        'cis-rhel'      => { 'cis-redhat9-l1-gen2' => { os => 'Linux', gen => 'V2' } },
        'cis-rhel-8-l2' => { 'cis-rhel8-l2'        => { os => 'Linux', gen => 'V1' } },
    },
    Canonical => {
        '0001-com-ubuntu-server-jammy' => {
            '22_04-lts'      => { os => 'Linux', gen => 'V1' },
            '22_04-lts-gen2' => { os => 'Linux', gen => 'V2' },
        },
        'ubuntu-24_04-lts' => { server => { os => 'Linux', gen => 'V2' } },
    },
    RedHat => { RHEL => { '9-lvm-gen2' => { os => 'Linux', gen => 'V2' } } },
    MicrosoftWindowsServer => {
        WindowsServer => {
            '2022-datacenter-azure-edition' => { os => 'Windows', gen => 'V2' },
            '2019-datacenter-gensecond'     => { os => 'Windows', gen => 'V2' },
        },
    },
);
our %MARKETPLACE_PUBLISHER = ($CIS => 1);
our @IMAGE_VERSIONS = ('1.0.0', '1.0.3', '1.1.0');

sub find_image ($publisher, $offer, $sku) {
    for my $p (keys %IMAGES) {
        next unless lc $p eq lc($publisher // '');
        for my $o (keys %{ $IMAGES{$p} }) {
            next unless lc $o eq lc($offer // '');
            for my $s (keys %{ $IMAGES{$p}{$o} }) {
                return { publisher => $p, offer => $o, sku => $s, %{ $IMAGES{$p}{$o}{$s} },
                         marketplace => $MARKETPLACE_PUBLISHER{$p} ? 1 : 0 }
                    if lc $s eq lc($sku // '');
            }
        }
    }
    return undef;
}

sub invalid_template ($msg) {
    return { code => 'InvalidTemplate',
             message => "Deployment template validation failed: '$msg'." };
}

# ---- expressions -------------------------------------------------------------

sub fail ($msg) { die { template_error => $msg } }

# A tiny recursive-descent parser for "[func(arg, 'str', 1).prop[0]]".
sub parse_expression ($text) {
    my $pos = 0;
    my $peek = sub { substr($text, $pos, 1) };
    my $ws   = sub { $pos++ while $pos < length($text) && $peek->() =~ /\s/ };
    my $expr;
    $expr = sub {
        $ws->();
        my $node;
        if ($peek->() eq "'") {
            $pos++;
            my $s = '';
            while (1) {
                fail("unterminated string in '$text'") if $pos >= length $text;
                my $ch = substr($text, $pos++, 1);
                if ($ch eq "'") {
                    if ($peek->() eq "'") { $s .= "'"; $pos++; next }
                    last;
                }
                $s .= $ch;
            }
            $node = { lit => $s };
        } elsif (substr($text, $pos) =~ /\A(-?\d+)/) {
            $pos += length $1;
            $node = { lit => 0 + $1 };
        } elsif (substr($text, $pos) =~ /\A([A-Za-z_][A-Za-z0-9_.]*)\s*\(/) {
            my $name = $1;
            $pos += length($&);
            my @args;
            $ws->();
            if ($peek->() eq ')') { $pos++ }
            else {
                while (1) {
                    push @args, $expr->();
                    $ws->();
                    my $ch = substr($text, $pos++, 1);
                    last if $ch eq ')';
                    fail("expected ',' or ')' in '$text'") unless $ch eq ',';
                }
            }
            $node = { call => $name, args => \@args };
        } elsif (substr($text, $pos) =~ /\A(true|false|null)\b/) {
            $pos += length $1;
            $node = { lit => $1 eq 'true' ? true : $1 eq 'false' ? false : undef };
        } else {
            fail("The language expression '$text' is not valid");
        }
        while (1) {
            $ws->();
            if ($peek->() eq '.' && substr($text, $pos) =~ /\A\.([A-Za-z_][A-Za-z0-9_]*)/) {
                $pos += length($&);
                $node = { prop => $1, of => $node };
            } elsif ($peek->() eq '[') {
                $pos++;
                my $index = $expr->();
                $ws->();
                fail("expected ']' in '$text'") unless substr($text, $pos++, 1) eq ']';
                $node = { index => $index, of => $node };
            } else { last }
        }
        return $node;
    };
    my $node = $expr->();
    $ws->();
    fail("The language expression '$text' is not valid") if $pos != length $text;
    return $node;
}

sub new_context (%args) { return { %args, var_cache => {}, resolving => {} } }

sub evaluate ($ctx, $value) {
    if (ref $value eq 'HASH')  { return { map { ($_ => evaluate($ctx, $value->{$_})) } keys %$value } }
    if (ref $value eq 'ARRAY') { return [map { evaluate($ctx, $_) } @$value] }
    return $value unless defined $value && !ref $value && $value =~ /\A\[(.*)\]\z/s;
    my $inner = $1;
    return substr($value, 1) if $inner =~ /\A\[/;   # "[[" escapes a literal "["
    return run($ctx, parse_expression($inner));
}

sub run ($ctx, $node) {
    return $node->{lit} if exists $node->{lit};
    if (exists $node->{prop}) {
        my $v = run($ctx, $node->{of});
        fail("The language expression property '$node->{prop}' doesn't exist")
            unless ref $v eq 'HASH';
        my ($key) = grep { lc $_ eq lc $node->{prop} } keys %$v;
        fail("The language expression property '$node->{prop}' doesn't exist, available "
            . "properties are '" . join(', ', sort keys %$v) . "'") unless defined $key;
        return $v->{$key};
    }
    if (exists $node->{index}) {
        my $v = run($ctx, $node->{of});
        my $i = run($ctx, $node->{index});
        return $v->[$i] if ref $v eq 'ARRAY' && $i =~ /\A\d+\z/ && $i < @$v;
        if (ref $v eq 'HASH') { my ($k) = grep { lc $_ eq lc $i } keys %$v; return $v->{$k} if defined $k }
        fail("The language expression index '$i' is not valid");
    }
    my $name = lc $node->{call};
    my $fn = __PACKAGE__->can("fn_$name")
        or fail("The template function '$node->{call}' is not valid. Please see "
            . 'https://aka.ms/arm-functions for usage details');
    # if() evaluates lazily so the branch not taken may be invalid.
    return $fn->($ctx, $node->{args}) if $name eq 'if';
    return $fn->($ctx, [map { run($ctx, $_) } @{ $node->{args} }]);
}

sub fn_parameters ($ctx, $a) {
    my $name = $a->[0] // '';
    my ($key) = grep { lc $_ eq lc $name } keys %{ $ctx->{params} };
    fail("The template parameter '$name' is not found") unless defined $key;
    return $ctx->{params}{$key};
}

sub fn_variables ($ctx, $a) {
    my $name = $a->[0] // '';
    my ($key) = grep { lc $_ eq lc $name } keys %{ $ctx->{variables} // {} };
    fail("The template variable '$name' is not found") unless defined $key;
    return $ctx->{var_cache}{$key} if exists $ctx->{var_cache}{$key};
    fail("The template variable '$name' refers to itself") if $ctx->{resolving}{$key}++;
    my $v = evaluate($ctx, $ctx->{variables}{$key});
    delete $ctx->{resolving}{$key};
    return $ctx->{var_cache}{$key} = $v;
}

sub fn_concat ($ctx, $a) {
    return [map { ref $_ eq 'ARRAY' ? @$_ : $_ } @$a] if @$a && ref $a->[0] eq 'ARRAY';
    return join '', map { $_ // '' } @$a;
}

sub fn_format ($ctx, $a) {
    my ($fmt, @args) = @$a;
    $fmt =~ s/\{(\d+)\}/$args[$1] \/\/ ''/ge;
    return $fmt;
}

sub fn_resourcegroup ($ctx, $a) {
    return { id => "/subscriptions/$ctx->{sub}/resourceGroups/$ctx->{rg}{name}",
             name => $ctx->{rg}{name}, location => $ctx->{rg}{location},
             type => 'Microsoft.Resources/resourceGroups',
             properties => { provisioningState => 'Succeeded' } };
}

sub fn_subscription ($ctx, $a) {
    return { id => "/subscriptions/$ctx->{sub}", subscriptionId => $ctx->{sub},
             tenantId => $ctx->{tenant}, displayName => $ctx->{sub_name} };
}

sub fn_deployment ($ctx, $a) { return { name => $ctx->{deployment}, properties => {} } }

sub fn_resourceid ($ctx, $a) {
    my @args = @$a;
    my ($sub, $rg) = ($ctx->{sub}, $ctx->{rg}{name});
    $rg  = shift @args if @args && $args[0] !~ m{/};
    ($sub, $rg) = ($rg, shift @args) if @args && $args[0] !~ m{/};
    my $type = shift @args // fail('resourceId() needs a resource type');
    my ($ns, @types) = split m{/}, $type;
    fail("The resource type '$type' is not valid") unless @types;
    fail("resourceId() for '$type' needs " . scalar(@types) . ' name(s)') unless @args == @types;
    my $path = join '/', map { "$types[$_]/$args[$_]" } 0 .. $#types;
    return "/subscriptions/$sub/resourceGroups/$rg/providers/$ns/$path";
}

sub fn_reference ($ctx, $a) {
    my $id = $a->[0] // '';
    my $res = $ctx->{by_id}{ lc $id } // $ctx->{by_name}{ lc $id };
    fail("The Resource '$id' is not defined in the template") unless $res;
    return $res->{runtime};
}

sub fn_uniquestring ($ctx, $a) {
    my $h = sha1_hex(join '|', map { $_ // '' } @$a);
    my $out = '';
    $out .= ('a' .. 'z', 0 .. 9)[hex(substr $h, $_ * 2, 2) % 36] for 0 .. 12;
    return $out;
}

sub fn_tolower  ($ctx, $a) { lc($a->[0] // '') }
sub fn_toupper  ($ctx, $a) { uc($a->[0] // '') }
sub fn_string   ($ctx, $a) { ref $a->[0] ? encode_json($a->[0]) : '' . ($a->[0] // '') }
sub fn_int      ($ctx, $a) { int($a->[0] // 0) }
sub fn_equals   ($ctx, $a) { (encode_json([$a->[0]]) eq encode_json([$a->[1]])) ? true : false }
sub fn_not      ($ctx, $a) { $a->[0] ? false : true }
sub fn_and      ($ctx, $a) { (grep { !$_ } @$a) ? false : true }
sub fn_or       ($ctx, $a) { (grep { $_ } @$a) ? true : false }
sub fn_coalesce ($ctx, $a) { (grep { defined } @$a)[0] }
sub fn_replace  ($ctx, $a) { my $s = $a->[0] // ''; $s =~ s/\Q$a->[1]\E/$a->[2]/g; $s }
sub fn_length   ($ctx, $a) { ref $a->[0] eq 'ARRAY' ? scalar @{ $a->[0] } : ref $a->[0] eq 'HASH' ? scalar keys %{ $a->[0] } : length($a->[0] // '') }
sub fn_empty    ($ctx, $a) { fn_length($ctx, $a) ? false : true }
sub fn_substring ($ctx, $a) { substr($a->[0] // '', $a->[1] // 0, $a->[2] // length($a->[0] // '')) }
sub fn_guid     ($ctx, $a) {
    my $h = substr(sha1_hex(join '|', @$a), 0, 32);
    return join '-', unpack 'A8 A4 A4 A4 A12', $h;
}

sub fn_if ($ctx, $args) {
    fail('if() needs three arguments') unless @$args == 3;
    return run($ctx, run($ctx, $args->[0]) ? $args->[1] : $args->[2]);
}

# ---- preparing a deployment --------------------------------------------------

# Parameters supplied vs declared: ARM rejects unknown ones and missing ones.
sub resolve_parameters ($ctx, $template, $supplied) {
    my $declared = $template->{parameters} // {};
    my %lc = map { (lc $_ => $_) } keys %$declared;
    my @unknown = grep { !$lc{ lc $_ } } sort keys %$supplied;
    return invalid_template("The template parameters '" . join(', ', @unknown)
        . "' in the parameters file are not valid; they are not present in the original "
        . 'template and can therefore not be provided at deployment time. The only supported '
        . "parameters for this template are '" . join(', ', sort keys %$declared)
        . "'. Please see https://aka.ms/arm-pass-parameter-values for usage details") if @unknown;
    my %supplied_lc = map { (lc $_ => $supplied->{$_}) } keys %$supplied;
    my %params;
    for my $name (sort keys %$declared) {
        my $def = $declared->{$name};
        my $in  = $supplied_lc{ lc $name };
        if ($in && ref $in eq 'HASH' && exists $in->{reference}) {
            return invalid_template("The parameter '$name' uses a Key Vault reference, which the simulator does not resolve");
        }
        my $value = $in && ref $in eq 'HASH' && exists $in->{value} ? $in->{value}
            : exists $def->{defaultValue} ? undef : return invalid_template(
              "The value for the template parameter '$name' at line '1' and column '1' "
              . 'is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details');
        $params{$name} = $value;
    }
    $ctx->{params} = \%params;
    for my $name (sort keys %$declared) {
        next if defined $params{$name};
        my $v = eval { evaluate($ctx, $declared->{$name}{defaultValue}) };
        return invalid_template($@->{template_error}) if ref $@ && $@->{template_error};
        $params{$name} = $v;
    }
    for my $name (sort keys %$declared) {
        my $allowed = $declared->{$name}{allowedValues} or next;
        next if grep { encode_json([$_]) eq encode_json([$params{$name}]) } @$allowed;
        return invalid_template("The provided value '" . ($params{$name} // '')
            . "' for the template parameter '$name' at line '1' and column '1' is not valid. "
            . "The parameter value is not part of the allowed value(s): '"
            . join(',', @$allowed) . "'");
    }
    return undef;
}

sub resource_id_of ($ctx, $type, $name) {
    my ($ns, @types) = split m{/}, $type;
    my @names = split m{/}, $name;
    my $path = join '/', map { "$types[$_]/" . ($names[$_] // '') } 0 .. $#types;
    return "/subscriptions/$ctx->{sub}/resourceGroups/$ctx->{rg}{name}/providers/$ns/$path";
}

# Evaluates the resources; returns (\@resources) or (undef, error).
sub expand_resources ($ctx, $template) {
    my $list = $template->{resources};
    $list = [map { { %{ $list->{$_} }, _symbolic => $_ } } sort keys %$list] if ref $list eq 'HASH';
    return (undef, invalid_template("The template resources property must be an array"))
        unless ref $list eq 'ARRAY';
    my @out;
    for my $raw (@$list) {
        my $r = eval {
            my %e;
            for my $k (qw(type apiVersion name location sku plan kind properties tags zones identity)) {
                $e{$k} = evaluate($ctx, $raw->{$k}) if exists $raw->{$k};
            }
            $e{dependsOn} = [map { evaluate($ctx, $_) } @{ $raw->{dependsOn} // [] }];
            \%e;
        };
        return (undef, invalid_template($@->{template_error})) if ref $@ && $@->{template_error};
        die $@ if $@;
        return (undef, invalid_template("The template resource at index '" . scalar(@out)
            . "' must have a type and a name")) unless $r->{type} && defined $r->{name};
        $r->{id} = resource_id_of($ctx, $r->{type}, $r->{name});
        push @out, $r;
    }
    my %ids = map { (lc $_->{id} => $_) } @out;
    for my $r (@out) {
        for my $dep (@{ $r->{dependsOn} }) {
            my $known = $ids{ lc $dep } || grep { lc($_->{name}) eq lc $dep
                || lc("$_->{type}/$_->{name}") eq lc $dep } @out;
            return (undef, invalid_template("The resource '$dep' is not defined in the template. "
                . 'Please see https://aka.ms/arm-syntax for usage details')) unless $known;
        }
    }
    $ctx->{by_id}   = { map { (lc $_->{id} => $_) } @out };
    $ctx->{by_name} = { map { (lc($_->{type} . '/' . $_->{name}) => $_) } @out };
    runtime_properties($ctx, $_) for @out;
    return (\@out);
}

# What reference() sees once a resource exists.
sub runtime_properties ($ctx, $r) {
    my %p = (%{ $r->{properties} // {} }, provisioningState => 'Succeeded');
    if ($r->{type} =~ m{^Microsoft\.Network/publicIPAddresses$}i) {
        my @b = unpack 'C4', sha256($r->{id});
        $p{ipAddress} = "20.$b[0].$b[1]." . (1 + $b[2] % 254);
        $p{resourceGuid} = fn_guid($ctx, [$r->{id}]);
    } elsif ($r->{type} =~ m{^Microsoft\.Compute/virtualMachines$}i) {
        $p{vmId} = fn_guid($ctx, ['vm', $r->{id}]);
    } elsif ($r->{type} =~ m{^Microsoft\.Network/networkInterfaces$}i) {
        my @b = unpack 'C2', sha256($r->{id});
        $p{ipConfigurations} = [map { { %$_, properties => { %{ $_->{properties} // {} },
            privateIPAddress => '10.1.0.' . (4 + $b[0] % 250) } } }
            @{ $p{ipConfigurations} // [] }];
    }
    $r->{runtime} = \%p;
}

# Synchronous checks ARM's preflight makes: region, marketplace terms.
sub preflight ($ctx, $resources, $terms_accepted) {
    for my $r (@$resources) {
        my $loc = lc($r->{location} // '');
        $loc =~ s/\s+//g;
        if (length $loc && $loc ne 'global' && !$REGION{$loc}) {
            return { code => 'LocationNotAvailableForResourceType',
                message => "The provided location '$r->{location}' is not available for "
                    . "resource type '$r->{type}'. List of available regions for the resource "
                    . "type is '" . join(',', @REGIONS) . "'." };
        }
        next unless lc $r->{type} eq 'microsoft.compute/virtualmachines';
        my $plan = $r->{plan} or next;
        my $image = find_image($plan->{publisher}, $plan->{product}, $plan->{name}) or next;
        next unless $image->{marketplace};
        next if $terms_accepted->($image->{publisher}, $image->{offer}, $image->{sku});
        return { code => 'MarketplacePurchaseEligibilityFailed',
            message => 'Marketplace purchase eligibilty check returned errors. See inner errors for details. ',
            details => [{ code => 'BadRequest',
                message => "Offer with PublisherId: '$image->{publisher}', OfferId: "
                    . "'$image->{offer}' cannot be purchased due to validation errors. For more "
                    . "information see details. You have not accepted the legal terms on this "
                    . "subscription: '$ctx->{sub}' for this plan. Before the subscription can be "
                    . 'used, you need to accept the legal terms of the image. Offer details: '
                    . "publisher='$image->{publisher}' offer = '$image->{offer}', sku = "
                    . "'$image->{sku}'" }] };
    }
    return undef;
}

my $LINUX_BAD   = q{` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' " , < > / ?};
my $WINDOWS_BAD = q{` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' " , < > / ?};

sub computer_name_error ($name, $os) {
    if ($os eq 'Windows') {
        return undef if length($name) <= 15 && $name !~ /\A\d+\z/
            && $name !~ /[`~!@#\$%^&*()=+_\[\]{}\\|;:.'",<>\/?\s]/ && length $name;
        return "Windows computer name cannot be more than 15 characters long, be entirely "
            . "numeric, or contain the following characters: $WINDOWS_BAD.";
    }
    return undef if length($name) <= 64 && $name !~ /\A\d+\z/ && length $name
        && $name !~ /[`~!@#\$%^&*()=+_\[\]{}\\|;:'",<>\/?\s]/ && $name !~ /\A[-.]|[-.]\z/;
    return "Linux host name cannot exceed 64 characters in length or contain the "
        . "following characters: $LINUX_BAD.";
}

# Checks the Compute resource provider makes when the VM is written; a
# failure surfaces as a failed deployment operation, not as a 400 on the PUT.
sub vm_failure ($ctx, $r) {
    my $p = $r->{properties} // {};
    my $size = $p->{hardwareProfile}{vmSize} // '';
    my ($known_size) = grep { lc $_ eq lc $size } keys %VM_SIZES;
    return { status => 'BadRequest', code => 'InvalidParameter', target => 'vmSize',
        message => "The value $size provided for the VM size is not valid. The valid sizes "
            . 'in the current region are: ' . join(',', sort keys %VM_SIZES) . '.' }
        unless $known_size;
    my $ref = $p->{storageProfile}{imageReference} // {};
    my $image;
    if (defined $ref->{publisher}) {
        $image = find_image($ref->{publisher}, $ref->{offer}, $ref->{sku});
        my $urn = join ':', map { $_ // '' } @$ref{qw(publisher offer sku version)};
        return { status => 'NotFound', code => 'PlatformImageNotFound', target => 'imageReference',
            message => "The platform image '$urn' is not available. Verify that all fields "
                . 'in the storage profile are correct. For more details about storage profile '
                . 'information, please refer to https://aka.ms/storageprofile' } unless $image;
        if ($image->{marketplace} && !$r->{plan}) {
            return { status => 'Conflict', provisioning => 1, code => 'VMMarketplaceInvalidInput',
                message => 'Creating a virtual machine from Marketplace image or a custom image '
                    . 'sourced from a Marketplace image requires Plan information in the '
                    . "request. VM: '$r->{id}'." };
        }
    }
    my $os = $p->{osProfile}{windowsConfiguration} ? 'Windows'
        : $p->{osProfile}{linuxConfiguration} ? 'Linux' : $image ? $image->{os} : 'Linux';
    my $computer = $p->{osProfile}{computerName} // $r->{name};
    if (my $msg = computer_name_error($computer, $os)) {
        return { status => 'BadRequest', code => 'InvalidParameter', target => 'computerName',
            message => $msg };
    }
    return undef;
}

sub outputs ($ctx, $template) {
    my %out;
    for my $name (sort keys %{ $template->{outputs} // {} }) {
        my $def = $template->{outputs}{$name};
        my $v = eval { evaluate($ctx, $def->{value}) };
        return (undef, invalid_template($@->{template_error})) if ref $@ && $@->{template_error};
        die $@ if $@;
        my $type = $def->{type} // 'string';
        $out{$name} = { type => ucfirst(lc $type) =~ s/^Securestring$/SecureString/r, value => $v };
    }
    return (\%out);
}

1;
